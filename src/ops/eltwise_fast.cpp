// Fast float32 elementwise ops for compiled plans. Wraps the reference kernels of the
// binary arithmetic ops and the activations: at infer() time, when the dtype is float32
// and the broadcast pattern folds into at most three loop levels, run() uses the
// vectorized, threaded kernels of src/kernels/eltwise; otherwise the reference kernel runs.
#include <algorithm>

#include "kernels/eltwise/eltwise_f32.hpp"
#include "ops/op.hpp"

namespace edgecnn {

namespace {

// Output dims grouped into [outer, mid, inner] runs where each operand is either fully
// present or broadcast; false when more than three runs would be needed.
bool fold_broadcast(const Shape& out, const Shape& a_in, const Shape& b_in, int64_t dims[3], EltOperand& a,
                    EltOperand& b) {
    const size_t r = out.size();
    auto aligned = [&](const Shape& s) {
        Shape full(r - s.size(), 1);
        full.insert(full.end(), s.begin(), s.end());
        return full;
    };
    Shape sa = aligned(a_in), sb = aligned(b_in);
    struct Run {
        int64_t size;
        bool a_bc, b_bc;
    };
    std::vector<Run> runs;
    for (size_t d = 0; d < r; ++d) {
        if (out[d] == 1) continue;
        bool abc = sa[d] == 1, bbc = sb[d] == 1;
        if (!runs.empty() && runs.back().a_bc == abc && runs.back().b_bc == bbc) runs.back().size *= out[d];
        else runs.push_back({out[d], abc, bbc});
    }
    if (runs.size() > 3) return false;
    while (runs.size() < 3) runs.insert(runs.begin(), Run{1, true, true});
    // Strides: the element count of the operand's own (non-broadcast) runs to the right.
    int64_t a_acc = 1, b_acc = 1;
    int64_t a_st[3], b_st[3];
    for (int i = 2; i >= 0; --i) {
        dims[i] = runs[size_t(i)].size;
        a_st[i] = runs[size_t(i)].a_bc ? 0 : a_acc;
        b_st[i] = runs[size_t(i)].b_bc ? 0 : b_acc;
        if (!runs[size_t(i)].a_bc) a_acc *= runs[size_t(i)].size;
        if (!runs[size_t(i)].b_bc) b_acc *= runs[size_t(i)].size;
    }
    a.s_outer = a_st[0], a.s_mid = a_st[1], a.s_inner = a_st[2];
    b.s_outer = b_st[0], b.s_mid = b_st[1], b.s_inner = b_st[2];
    return true;
}

class FastBinary final : public OpKernel {
public:
    FastBinary(std::unique_ptr<OpKernel> ref, BinaryOp op, ThreadPool* pool)
        : ref_(std::move(ref)), op_(op), pool_(pool) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        bool ok = ref_->infer(in, out);
        fast_ = ok && in.size() == 2 && in[0].present && in[1].present && in[0].dtype == DType::F32 &&
                in[1].dtype == DType::F32 && out[0].dtype == DType::F32 &&
                fold_broadcast(out[0].shape, in[0].shape, in[1].shape, dims_, a_, b_);
        return ok;
    }
    std::string kernel_name() const override { return fast_ ? "binary_f32" : ref_->kernel_name(); }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        if (!fast_) return ref_->run(in, out);
        EltOperand a = a_, b = b_;
        a.p = in[0]->data<float>();
        b.p = in[1]->data<float>();
        binary_f32(op_, dims_[0], dims_[1], dims_[2], a, b, out[0]->data<float>(), ActivationParams{}, pool_);
    }

private:
    std::unique_ptr<OpKernel> ref_;
    BinaryOp op_;
    ThreadPool* pool_;
    bool fast_ = false;
    int64_t dims_[3] = {1, 1, 1};
    EltOperand a_, b_;
};

class FastActivation final : public OpKernel {
public:
    FastActivation(std::unique_ptr<OpKernel> ref, ActivationParams act, ThreadPool* pool)
        : ref_(std::move(ref)), act_(act), pool_(pool) {}
    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        bool ok = ref_->infer(in, out);
        fast_ = ok && in[0].dtype == DType::F32 && out[0].dtype == DType::F32;
        return ok;
    }
    std::string kernel_name() const override { return fast_ ? "activation_f32" : ref_->kernel_name(); }
    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        if (!fast_) return ref_->run(in, out);
        activation_f32(in[0]->data<float>(), out[0]->data<float>(), in[0]->numel(), act_, pool_);
    }

private:
    std::unique_ptr<OpKernel> ref_;
    ActivationParams act_;
    ThreadPool* pool_;
    bool fast_ = false;
};

}  // namespace

void register_fast_eltwise_ops(OpRegistry& r) {
    const std::pair<const char*, BinaryOp> binary[] = {{"Add", BinaryOp::Add}, {"Sub", BinaryOp::Sub},
                                                       {"Mul", BinaryOp::Mul}, {"Div", BinaryOp::Div}};
    for (const auto& [name, op] : binary)
        r.decorate(name, [op = op](OpFactory ref) -> OpFactory {
            return [ref, op](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
                auto k = ref(a);
                if (!a.for_plan()) return k;
                return std::make_unique<FastBinary>(std::move(k), op, a.pool());
            };
        });
    // Activations whose parameters are attributes (Clip's bounds are inputs: it stays).
    const char* unary[] = {"Relu", "LeakyRelu", "Sigmoid", "HardSigmoid", "HardSwish", "Tanh"};
    for (const char* name : unary)
        r.decorate(name, [name = std::string(name)](OpFactory ref) -> OpFactory {
            return [ref, name](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
                auto k = ref(a);
                if (!a.for_plan()) return k;
                ActivationParams p;
                if (name == "Relu") p.kind = Activation::Relu;
                if (name == "LeakyRelu") p = {Activation::LeakyRelu, a.get_float("alpha", 0.01f), 0.f};
                if (name == "Sigmoid") p.kind = Activation::Sigmoid;
                if (name == "HardSigmoid") p = {Activation::HardSigmoid, a.get_float("alpha", 0.2f), a.get_float("beta", 0.5f)};
                if (name == "HardSwish") p.kind = Activation::HardSwish;
                if (name == "Tanh") p.kind = Activation::Tanh;
                return std::make_unique<FastActivation>(std::move(k), p, a.pool());
            };
        });
}

}  // namespace edgecnn
