// How an operator plugs into the engine. An OpFactory reads a node's attributes once
// (rejecting what the engine does not implement) and returns an OpKernel; the kernel
// infers output types/shapes and evaluates the op with the reference (scalar,
// obviously correct) implementation. Fast kernels replace these at compile time.
#pragma once
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "base/tensor.hpp"
#include "ir/graph.hpp"

namespace edgecnn {

// What is known about one input or output while inferring: dtype and concrete shape,
// and the value itself when it is a constant (or when the kernel is about to run).
struct ValueInfo {
    bool present = true;  // false for an omitted optional input/output
    DType dtype = DType::Undefined;
    Shape shape;
    const Tensor* data = nullptr;  // null when the value is not known yet
};

// Weights a fast kernel packed for the running CPU, exported into an .ecnn --target file
// (as node attributes "_prepacked.<slot>" and "_prepacked_meta.<slot>") and handed back to
// the kernel at load (OpAttrs::prepacked), so that loading skips the packing.
struct PackedWeights {
    std::string slot;
    Tensor data;
    std::vector<int64_t> meta;  // what the kernel needs to check and adopt them (dims, ISA)
};
constexpr const char* kPrepackedAttr = "_prepacked.";
constexpr const char* kPrepackedMetaAttr = "_prepacked_meta.";

class OpKernel {
public:
    virtual ~OpKernel() = default;
    // Sets dtype and shape of every present output (`out` has one entry per node output,
    // `present` already set). Returns false when an output shape depends on an input
    // value that is not known yet (its `data` is null); the runtime then infers again
    // just before running. Throws Error for inconsistent shapes or unsupported dtypes.
    virtual bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) = 0;
    // Computes the outputs. `out` tensors are allocated by the runtime with the dtype and
    // shape infer() gave (null for omitted outputs); `in` is null for omitted inputs.
    virtual void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) = 0;

    // Memory accounting and sharing, asked after infer() for the bound shapes:
    // bytes of weights the kernel packed for itself, and scratch it needs during run().
    // The plan gives every kernel one shared workspace of the largest size requested.
    virtual int64_t packed_bytes() const { return 0; }
    virtual int64_t workspace_bytes() const { return 0; }
    virtual void set_workspace(void* /*workspace*/) {}
    // Whether the kernel copied constant input `i` into a form of its own (counted in
    // packed_bytes()) and never reads the original while running; asked after infer().
    // The plan then does not count that constant as memory it holds, so that weights are
    // not counted twice.
    virtual bool packs_constant_input(size_t /*i*/) const { return false; }
    // The packed weights (after infer()), for .ecnn --target files; empty by default.
    virtual std::vector<PackedWeights> packed_weights() const { return {}; }
    // Name of the implementation chosen (for profiles), e.g. "gemm_f32_avx512".
    virtual std::string kernel_name() const { return "reference"; }
};

class ThreadPool;

// Arithmetic a session allows float layers (SessionOptions::fpmath). F32: IEEE single
// precision throughout. Bf16: layers whose kernels have a bfloat16 path (convolutions and
// Gemm layers whose GEMM has K and N >= 64, on CPUs with AVX512-BF16) round their operands to bf16 and accumulate in
// FP32: up to twice the multiply rate, a relative error of about 2^-9 per operand.
enum class FpMath { F32, Bf16 };

// Gives a factory the node's attributes and records which ones it read, so that the
// runtime can report every attribute the engine does not understand.
class OpAttrs {
public:
    // `graph` (optional) lets factories see constant inputs, e.g. to pack weights once.
    OpAttrs(const Node& node, int64_t opset, const Graph* graph = nullptr, ThreadPool* pool = nullptr,
            bool for_plan = false, FpMath fpmath = FpMath::F32)
        : node_(node), opset_(opset), graph_(graph), pool_(pool), for_plan_(for_plan), fpmath_(fpmath) {}
    // Threads fast kernels may use (null: run on the caller only).
    ThreadPool* pool() const { return pool_; }
    // True when the kernel will execute a compiled plan (pack weights, pick a fast path);
    // false for the kernels a Session makes to validate and fold the imported graph.
    bool for_plan() const { return for_plan_; }
    // The session's float arithmetic (a kernel without a bf16 path ignores it).
    FpMath fpmath() const { return fpmath_; }
    const Node& node() const { return node_; }
    int64_t opset() const { return opset_; }
    size_t num_inputs() const { return node_.inputs.size(); }
    size_t num_outputs() const { return node_.outputs.size(); }
    bool has_input(size_t i) const { return i < node_.inputs.size() && node_.inputs[i] != kNoValue; }
    bool has_output(size_t i) const { return i < node_.outputs.size() && node_.outputs[i] != kNoValue; }

    // The value of input i when it is a constant (initializer/Constant), else null.
    const Tensor* constant_input(size_t i) const {
        if (!graph_ || !has_input(i)) return nullptr;
        const auto& c = graph_->value(node_.inputs[i]).constant;
        return c ? c.get() : nullptr;
    }

    bool has(const std::string& key) const;
    int64_t get_int(const std::string& key) const;                  // required
    int64_t get_int(const std::string& key, int64_t def) const;
    float get_float(const std::string& key) const;
    float get_float(const std::string& key, float def) const;
    std::string get_string(const std::string& key) const;
    std::string get_string(const std::string& key, const std::string& def) const;
    std::vector<int64_t> get_ints(const std::string& key) const;
    std::vector<int64_t> get_ints(const std::string& key, const std::vector<int64_t>& def) const;
    std::vector<float> get_floats(const std::string& key) const;
    std::vector<float> get_floats(const std::string& key, const std::vector<float>& def) const;
    std::shared_ptr<Tensor> get_tensor(const std::string& key) const;
    // Packed weights stored for `slot` in an .ecnn --target file (null if none); `meta`
    // receives their PackedWeights::meta. Unread prepacked attributes are never reported.
    const Tensor* prepacked(const std::string& slot, std::vector<int64_t>* meta) const;
    // Marks an attribute as understood without reading it (e.g. Dropout's seed).
    void ignore(const std::string& key) const { used_.insert(key); }
    // Attributes present on the node that the factory never read.
    std::vector<std::string> unread() const;

private:
    const Attribute& get(const std::string& key, Attribute::Kind kind) const;
    const Node& node_;
    int64_t opset_;
    const Graph* graph_;
    ThreadPool* pool_;
    bool for_plan_;
    FpMath fpmath_;
    mutable std::set<std::string> used_;
};

using OpFactory = std::function<std::unique_ptr<OpKernel>(const OpAttrs&)>;

// Registry of default-domain ops. `min_opset` lets an op exist only from some version.
struct OpDef {
    std::string name;
    OpFactory factory;
    int64_t min_opset = 1;
};

class OpRegistry {
public:
    static const OpRegistry& instance();
    void add(const std::string& name, OpFactory f, int64_t min_opset = 1);
    // Replaces a registered factory by `wrap(old factory)` (fast kernels wrapping references).
    void decorate(const std::string& name, const std::function<OpFactory(OpFactory)>& wrap);
    const OpDef* find(const std::string& name) const;
    // The definition that runs `node` at `opset`: default-domain ops by name (when the
    // opset is new enough), internal ops of domain "edgecnn" as "edgecnn.<op>"; null when
    // the domain or op is not supported.
    const OpDef* find_for(const Node& node, int64_t opset) const;
    std::vector<std::string> names() const;

private:
    std::vector<OpDef> defs_;
};

// Registers an op of a custom domain (not "", "ai.onnx" or "edgecnn"), found by find_for
// for nodes of that domain; the public API's custom ops (src/api). Throws if the name is
// taken. Register before creating sessions that use it.
void register_custom_op(const std::string& domain, const std::string& op_type, OpFactory f);

// Family registration functions, one per file in src/ops/ (called once by instance()).
void register_elementwise_ops(OpRegistry& r);   // unary/binary/variadic math, compare, logic, Where, Cast, Clip
void register_activation_ops(OpRegistry& r);    // Relu..Gelu, Softmax, LogSoftmax, PRelu
void register_reduce_ops(OpRegistry& r);        // Reduce*, ArgMax, TopK
void register_nn_ops(OpRegistry& r);            // Conv, ConvTranspose, BatchNorm, Gemm, MatMul, norms, LRN
void register_pool_ops(OpRegistry& r);          // MaxPool, AveragePool, Global*
void register_resize_ops(OpRegistry& r);        // Resize, Upsample
void register_tensor_ops(OpRegistry& r);        // shape and data movement ops
void register_fused_ops(OpRegistry& r);         // edgecnn.FusedConv (reference, NCHW)
void register_nhwc_ops(OpRegistry& r);          // edgecnn.*Nhwc: the fast path's internal ops
void register_fast_eltwise_ops(OpRegistry& r);  // float32 fast paths wrapping elementwise references (last)

// ---- helpers shared by op implementations ----

// Numpy-style multidirectional broadcast of shapes; throws naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b);
// Normalises a possibly negative axis against `rank`; throws if out of range.
int64_t normalize_axis(int64_t axis, int64_t rank);
// Requires `t` (an input's dtype) to be one of `allowed`, else throws Unsupported naming `what`.
void require_dtype(DType t, std::initializer_list<DType> allowed, const std::string& what);
// Strides of a row-major shape, in elements.
std::vector<int64_t> strides_of(const Shape& s);


}  // namespace edgecnn
