// A dense, row-major tensor: dtype + shape + a shared, 64-byte-aligned buffer.
// Copies are shallow (they share the buffer); clone() makes a deep copy. A Tensor can
// also view memory it does not own (an mmapped file, a caller's input buffer).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/dtype.hpp"

namespace edgecnn {

using Shape = std::vector<int64_t>;

// Number of elements of a shape; throws Error(Limit) on negative dims or overflow.
int64_t shape_numel(const Shape& shape);
std::string shape_str(const Shape& shape);  // "[1,3,224,224]"

// Upper bound for one tensor allocation; a model cannot make the engine allocate more.
// Defaults to 16 GiB or the environment variable EDGECNN_MAX_TENSOR_BYTES (read once at
// start-up, so it also bounds the CLI); set_max_tensor_bytes() changes it. The importer
// applies it to declared initializers and list attributes before allocating anything.
int64_t max_tensor_bytes();
void set_max_tensor_bytes(int64_t bytes);

class Tensor {
public:
    Tensor() = default;
    // Allocates zero-initialised storage.
    Tensor(DType dtype, Shape shape);
    // Allocates without zeroing, for outputs a kernel overwrites entirely.
    static Tensor uninitialized(DType dtype, Shape shape);
    // Wraps external memory; `owner` keeps it alive (may be null if the caller guarantees it).
    static Tensor view(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner = nullptr);

    template <typename T>
    static Tensor from_vector(const std::vector<T>& values, Shape shape);
    template <typename T>
    static Tensor scalar(T v) { return from_vector<T>({v}, {}); }

    DType dtype() const { return dtype_; }
    const Shape& shape() const { return shape_; }
    int64_t dim(size_t i) const { return shape_[i]; }
    size_t rank() const { return shape_.size(); }
    int64_t numel() const { return numel_; }
    size_t nbytes() const { return size_t(numel_) * dtype_size(dtype_); }
    bool empty() const { return dtype_ == DType::Undefined; }
    // True when this Tensor is the only holder of its allocation (no copy shares it), so
    // the memory can be reused without anyone seeing the change.
    bool sole_owner() const { return data_ && owner_ && owner_.use_count() == 1; }

    void* raw() { return data_; }
    const void* raw() const { return data_; }
    template <typename T> T* data() { check_type(DTypeOf<T>::value); return static_cast<T*>(data_); }
    template <typename T> const T* data() const { check_type(DTypeOf<T>::value); return static_cast<const T*>(data_); }

    // Same buffer, new shape with the same element count.
    Tensor reshaped(Shape shape) const;
    Tensor clone() const;
    // Values converted to double / int64 (any numeric dtype); for small shape tensors.
    std::vector<double> to_f64() const;
    std::vector<int64_t> to_i64() const;

private:
    void allocate(bool zero);
    void check_type(DType t) const;
    DType dtype_ = DType::Undefined;
    Shape shape_;
    int64_t numel_ = 0;
    std::shared_ptr<void> owner_;
    void* data_ = nullptr;
};

template <typename T>
Tensor Tensor::from_vector(const std::vector<T>& values, Shape shape) {
    Tensor t(DTypeOf<T>::value, std::move(shape));
    T* d = t.data<T>();
    for (size_t i = 0; i < values.size() && int64_t(i) < t.numel(); ++i) d[i] = values[i];
    return t;
}

}  // namespace edgecnn
