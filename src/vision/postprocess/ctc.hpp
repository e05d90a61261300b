// CTC greedy decoding for PP-OCR text recognition: argmax per time step, merge repeats,
// drop the blank. Charset layout of PP-OCR: index 0 is the blank, then the lines of the
// keys file in order, then (use_space_char) a space as the last index.
#pragma once
#include <string>
#include <vector>

#include "base/tensor.hpp"

namespace edgecnn::vision {

// Reads a keys file (one UTF-8 character per line; a missing final newline is fine) and
// returns the full class table: "" (blank), the keys, and " " when `append_space`.
std::vector<std::string> load_ctc_charset(const std::string& path, bool append_space = true);

struct CtcText {
    std::string text;
    float confidence = 0;  // mean of the kept steps' max probabilities (0 when empty)
};

// probs: T x C scores (probabilities or logits; argmax is the same), row-major. Charset
// must have C entries. Index `blank` is the blank.
CtcText ctc_greedy_decode(const float* probs, int64_t steps, int64_t classes, const std::vector<std::string>& charset,
                          int64_t blank = 0);
// [N,T,C] (or [T,C]) float32 -> one string per batch item.
std::vector<CtcText> ctc_greedy_decode(const Tensor& probs, const std::vector<std::string>& charset);

}  // namespace edgecnn::vision
