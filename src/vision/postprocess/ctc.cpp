#include "vision/postprocess/ctc.hpp"

#include <fstream>
#include <sstream>

#include "base/error.hpp"

namespace edgecnn::vision {

std::vector<std::string> load_ctc_charset(const std::string& path, bool append_space) {
    std::ifstream f(path, std::ios::binary);
    if (!f) throw Error(ErrorKind::Io, "cannot read the character list '" + path + "'");
    std::vector<std::string> cs{""};
    std::string line;
    while (std::getline(f, line)) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        cs.push_back(line);
    }
    if (cs.size() == 1) fail("character list '" + path + "' is empty");
    if (append_space) cs.push_back(" ");
    return cs;
}

CtcText ctc_greedy_decode(const float* probs, int64_t T, int64_t C, const std::vector<std::string>& charset,
                          int64_t blank) {
    if (int64_t(charset.size()) != C)
        fail("CTC: the model scores " + std::to_string(C) + " classes but the character list has " +
             std::to_string(charset.size()) + " (blank + keys + space); wrong --class-names file?");
    CtcText r;
    double conf = 0;
    int64_t kept = 0, prev = -1;
    for (int64_t t = 0; t < T; ++t) {
        const float* row = probs + t * C;
        int64_t best = 0;
        for (int64_t c = 1; c < C; ++c)
            if (row[c] > row[best]) best = c;
        if (best != blank && best != prev) {
            r.text += charset[size_t(best)];
            conf += row[best];
            ++kept;
        }
        prev = best;
    }
    r.confidence = kept ? float(conf / double(kept)) : 0.0f;
    return r;
}

std::vector<CtcText> ctc_greedy_decode(const Tensor& probs, const std::vector<std::string>& charset) {
    if (probs.dtype() != DType::F32) fail("CTC: expected float32 scores, got " + dtype_name(probs.dtype()));
    const Shape& s = probs.shape();
    int64_t n, t, c;
    if (s.size() == 3) { n = s[0]; t = s[1]; c = s[2]; }
    else if (s.size() == 2) { n = 1; t = s[0]; c = s[1]; }
    else fail("CTC: expected scores [N,T,C], got " + shape_str(s));
    std::vector<CtcText> out;
    for (int64_t i = 0; i < n; ++i) out.push_back(ctc_greedy_decode(probs.data<float>() + i * t * c, t, c, charset));
    return out;
}

}  // namespace edgecnn::vision
