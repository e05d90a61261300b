#include "quant/evaluate.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/error.hpp"
#include "runtime/session.hpp"

namespace edgecnn {

Accuracy evaluate_accuracy(std::shared_ptr<Graph> model, CalibrationSource& src, const std::vector<int>& labels,
                           const EvalOptions& opt) {
    const Graph& g = *model;
    if (g.inputs.size() != 1) fail_unsupported("eval feeds models with one input; this model has " + std::to_string(g.inputs.size()));
    const int64_t n = opt.limit > 0 ? std::min(opt.limit, src.size()) : src.size();
    if (!labels.empty() && int64_t(labels.size()) < n)
        fail(std::to_string(labels.size()) + " labels for " + std::to_string(n) + " samples");
    const Value& in = g.value(g.inputs[0]);
    const bool dynamic_batch = in.shape && !in.shape->empty() && !(*in.shape)[0].is_static();
    const int64_t batch = dynamic_batch ? std::max<int64_t>(1, opt.batch) : 1;
    SessionOptions so;
    so.num_threads = opt.threads;
    so.fpmath = opt.fpmath;
    Session session(model, so);
    Accuracy acc;
    for (int64_t b0 = 0; b0 < n; b0 += batch) {
        const int64_t bs = std::min(batch, n - b0);
        // Samples are [1, ...]; a batch concatenates them along the first axis.
        NamedTensors first = src.get(b0);
        if (first.size() != 1) fail("eval: the source gives " + std::to_string(first.size()) + " inputs");
        Tensor x = first[0].second;
        if (bs > 1) {
            Shape s = x.shape();
            if (s.empty() || s[0] != 1) fail("eval: samples must have batch 1 to be batched, got " + shape_str(s));
            s[0] = bs;
            Tensor xb(DType::F32, s);
            const int64_t per = x.numel();
            std::memcpy(xb.data<float>(), x.data<float>(), size_t(per) * sizeof(float));
            for (int64_t i = 1; i < bs; ++i) {
                Tensor t = src.get(b0 + i)[0].second;
                if (t.shape() != x.shape()) fail("eval: samples differ in shape; use --batch 1");
                std::memcpy(xb.data<float>() + i * per, t.data<float>(), size_t(per) * sizeof(float));
            }
            x = xb;
        }
        auto out = session.run({{first[0].first, x}});
        const Tensor& logits = out[0].second;
        if (logits.dtype() != DType::F32 || logits.rank() != 2 || logits.dim(0) != bs)
            fail("eval expects a [batch, classes] float32 first output, got " + shape_str(logits.shape()));
        const int64_t classes = logits.dim(1);
        for (int64_t i = 0; i < bs; ++i) {
            const float* l = logits.data<float>() + i * classes;
            const int label = labels.empty() ? src.label(b0 + i) : labels[size_t(b0 + i)];
            if (label < 0) fail("eval: sample " + std::to_string(b0 + i) + " has no label (give --labels or a class tree)");
            int64_t better = 0;  // classes scored above the label's
            for (int64_t c = 0; c < classes; ++c) better += l[c] > (label < classes ? l[label] : INFINITY);
            const int64_t best = std::max_element(l, l + classes) - l;
            acc.top1 += best == label;
            acc.topk += label < classes && better < opt.top_k;
        }
        acc.count += bs;
        if (opt.progress) opt.progress("evaluating", b0 + bs, n);
    }
    return acc;
}

}  // namespace edgecnn
