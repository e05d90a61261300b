#include "base/tensor.hpp"

#include <atomic>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "base/error.hpp"

namespace edgecnn {

namespace {
// 16 GiB unless EDGECNN_MAX_TENSOR_BYTES says otherwise (so the CLI and any program can
// lower it without code); a value that is not a positive integer is reported and ignored.
int64_t initial_max_tensor_bytes() {
    constexpr int64_t kDefault = int64_t(16) << 30;
    const char* env = std::getenv("EDGECNN_MAX_TENSOR_BYTES");
    if (!env || !*env) return kDefault;
    int64_t v = 0;
    const char* end = env + std::strlen(env);
    auto [p, ec] = std::from_chars(env, end, v);
    if (ec != std::errc() || p != end || v <= 0) {
        std::fprintf(stderr, "edgecnn: ignoring EDGECNN_MAX_TENSOR_BYTES='%s' (not a positive byte count)\n", env);
        return kDefault;
    }
    return v;
}

std::atomic<int64_t> g_max_tensor_bytes{initial_max_tensor_bytes()};

template <typename Out>
std::vector<Out> convert_all(const Tensor& t) {
    std::vector<Out> out(size_t(t.numel()));
    const void* p = t.raw();
    for (int64_t i = 0; i < t.numel(); ++i) {
        Out v{};
        switch (t.dtype()) {
            case DType::F32: v = Out(static_cast<const float*>(p)[i]); break;
            case DType::F64: v = Out(static_cast<const double*>(p)[i]); break;
            case DType::F16: v = Out(half_to_float(static_cast<const uint16_t*>(p)[i])); break;
            case DType::BF16: v = Out(bf16_to_float(static_cast<const uint16_t*>(p)[i])); break;
            case DType::I64: v = Out(static_cast<const int64_t*>(p)[i]); break;
            case DType::I32: v = Out(static_cast<const int32_t*>(p)[i]); break;
            case DType::I16: v = Out(static_cast<const int16_t*>(p)[i]); break;
            case DType::I8: v = Out(static_cast<const int8_t*>(p)[i]); break;
            case DType::U8: v = Out(static_cast<const uint8_t*>(p)[i]); break;
            case DType::U16: v = Out(static_cast<const uint16_t*>(p)[i]); break;
            case DType::U32: v = Out(static_cast<const uint32_t*>(p)[i]); break;
            case DType::U64: v = Out(static_cast<const uint64_t*>(p)[i]); break;
            case DType::Bool: v = Out(static_cast<const uint8_t*>(p)[i] != 0); break;
            default: fail("cannot convert a " + dtype_name(t.dtype()) + " tensor to numbers");
        }
        out[size_t(i)] = v;
    }
    return out;
}
}  // namespace

int64_t max_tensor_bytes() { return g_max_tensor_bytes.load(); }
void set_max_tensor_bytes(int64_t bytes) { g_max_tensor_bytes.store(bytes); }

int64_t shape_numel(const Shape& shape) {
    int64_t n = 1;
    for (int64_t d : shape) {
        if (d < 0) throw Error(ErrorKind::Invalid, "negative dimension in shape " + shape_str(shape));
        if (d != 0 && n > INT64_MAX / d)
            throw Error(ErrorKind::Limit, "shape " + shape_str(shape) + " has too many elements");
        n *= d;
    }
    return n;
}

std::string shape_str(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ",";
        s += std::to_string(shape[i]);
    }
    return s + "]";
}

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) { allocate(true); }

Tensor Tensor::uninitialized(DType dtype, Shape shape) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.allocate(false);
    return t;
}

void Tensor::allocate(bool zero) {
    size_t es = dtype_size(dtype_);
    if (es == 0) fail_unsupported("tensors of type " + dtype_name(dtype_) + " are not supported");
    numel_ = shape_numel(shape_);
    if (numel_ > max_tensor_bytes() / int64_t(es))
        throw Error(ErrorKind::Limit, "tensor of shape " + shape_str(shape_) + " (" + dtype_name(dtype_) +
                                          ") exceeds the memory limit of " + std::to_string(max_tensor_bytes()) +
                                          " bytes");
    size_t bytes = size_t(numel_) * es;
    size_t alloc = (bytes + 63) / 64 * 64;
    if (alloc == 0) alloc = 64;
    void* p = std::aligned_alloc(64, alloc);
    if (!p) throw Error(ErrorKind::Limit, "out of memory allocating " + std::to_string(alloc) + " bytes");
    if (zero) std::memset(p, 0, alloc);
    owner_ = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
    data_ = p;
}

Tensor Tensor::view(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner) {
    Tensor t;
    t.dtype_ = dtype;
    t.shape_ = std::move(shape);
    t.numel_ = shape_numel(t.shape_);
    t.owner_ = std::move(owner);
    t.data_ = data;
    return t;
}

Tensor Tensor::reshaped(Shape shape) const {
    Tensor t = *this;
    int64_t n = shape_numel(shape);
    if (n != numel_) fail("cannot reshape " + shape_str(shape_) + " to " + shape_str(shape));
    t.shape_ = std::move(shape);
    return t;
}

Tensor Tensor::clone() const {
    Tensor t(dtype_, shape_);
    if (nbytes()) std::memcpy(t.data_, data_, nbytes());
    return t;
}

std::vector<double> Tensor::to_f64() const { return convert_all<double>(*this); }
std::vector<int64_t> Tensor::to_i64() const { return convert_all<int64_t>(*this); }

void Tensor::check_type(DType t) const {
    if (t != dtype_)
        fail("tensor of type " + dtype_name(dtype_) + " accessed as " + dtype_name(t));
}

}  // namespace edgecnn
