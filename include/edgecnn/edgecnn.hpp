// edgecnn C++ API: a header-only layer over the C API (edgecnn.h), so that the shared
// library's ABI is the C one and this header can be compiled with any C++17 compiler.
// Errors are thrown as ecnn::Error (status + message).
//
//   ecnn::Model model = ecnn::Model::load("model.ecnn");
//   ecnn::SessionOptions opt; opt.num_threads = 2;
//   ecnn::Session session(model, opt);
//   session.bind_input("input", pixels.data(), {1, 1, 28, 28});   // no copy
//   session.run();                                                  // reuse: refill, run again
//   ecnn::TensorView logits = session.output(0);                    // valid until next run
//
// Custom ops: ecnn::register_op({"com.example", "MyOp", infer, run}) with std::functions.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "edgecnn/edgecnn.h"

namespace ecnn {

class Error : public std::runtime_error {
public:
    Error(ecnn_status status, const std::string& message) : std::runtime_error(message), status_(status) {}
    ecnn_status status() const { return status_; }

private:
    ecnn_status status_;
};

inline void check(ecnn_status s) {
    if (s != ECNN_OK) throw Error(s, ecnn_last_error());
}

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr ecnn_dtype value = ECNN_F32; };
template <> struct dtype_of<uint8_t> { static constexpr ecnn_dtype value = ECNN_U8; };
template <> struct dtype_of<int8_t> { static constexpr ecnn_dtype value = ECNN_I8; };
template <> struct dtype_of<int32_t> { static constexpr ecnn_dtype value = ECNN_I32; };
template <> struct dtype_of<int64_t> { static constexpr ecnn_dtype value = ECNN_I64; };
template <> struct dtype_of<double> { static constexpr ecnn_dtype value = ECNN_F64; };

// A tensor owned by someone else (a session's output, a custom op's argument).
struct TensorView {
    ecnn_dtype dtype = ECNN_UNDEFINED;
    std::vector<int64_t> shape;
    void* data = nullptr;

    TensorView() = default;
    explicit TensorView(const ecnn_tensor& t) : dtype(t.dtype), shape(t.shape, t.shape + t.rank), data(t.data) {}
    int64_t numel() const {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        return n;
    }
    template <typename T>
    T* as() const {
        if (dtype != dtype_of<T>::value) throw Error(ECNN_ERROR_INVALID, "tensor has another dtype");
        return static_cast<T*>(data);
    }
};

struct LoadOptions {
    bool verify_checksum = true;
};

class Model {
public:
    static Model load(const std::string& path, const LoadOptions& options = {}) {
        ecnn_load_options o = c_options(options);
        ecnn_model* m = nullptr;
        check(ecnn_model_load_file(path.c_str(), &o, &m));
        return Model(m);
    }
    static Model from_memory(const void* data, size_t size, const LoadOptions& options = {}) {
        ecnn_load_options o = c_options(options);
        ecnn_model* m = nullptr;
        check(ecnn_model_load_memory(data, size, &o, &m));
        return Model(m);
    }

    std::vector<std::string> input_names() const {
        std::vector<std::string> v;
        for (size_t i = 0; i < ecnn_model_input_count(get()); ++i) v.emplace_back(ecnn_model_input_name(get(), i));
        return v;
    }
    std::vector<std::string> output_names() const {
        std::vector<std::string> v;
        for (size_t i = 0; i < ecnn_model_output_count(get()); ++i) v.emplace_back(ecnn_model_output_name(get(), i));
        return v;
    }
    // Declared input: dtype and dims (-1 where dynamic).
    TensorView input_info(size_t index) const {
        ecnn_tensor t;
        check(ecnn_model_input_info(get(), index, &t));
        return TensorView(t);
    }
    std::vector<std::string> class_names() const {
        std::vector<std::string> v;
        for (size_t i = 0; i < ecnn_model_class_count(get()); ++i) v.emplace_back(ecnn_model_class_name(get(), i));
        return v;
    }
    // "" when absent.
    std::string metadata(const std::string& key) const {
        const char* s = ecnn_model_metadata(get(), key.c_str());
        return s ? s : "";
    }
    const ecnn_model* get() const { return model_.get(); }

private:
    explicit Model(ecnn_model* m) : model_(m, ecnn_model_free) {}
    static ecnn_load_options c_options(const LoadOptions& options) {
        ecnn_load_options o;
        ecnn_load_options_init(&o);
        o.verify_checksum = options.verify_checksum ? 1 : 0;
        return o;
    }
    std::shared_ptr<ecnn_model> model_;
};

struct SessionOptions {
    int num_threads = 1;
    int64_t max_arena_bytes = 0;  // 0: no limit
    int optimization_level = 1;
    ecnn_fpmath fpmath = ECNN_FPMATH_F32;  // see ecnn_session_options::fpmath
};

class Session {
public:
    explicit Session(const Model& model, const SessionOptions& options = {}) {
        ecnn_session_options o;
        ecnn_session_options_init(&o);
        o.num_threads = options.num_threads;
        o.max_arena_bytes = options.max_arena_bytes;
        o.optimization_level = options.optimization_level;
        o.fpmath = options.fpmath;
        ecnn_session* s = nullptr;
        check(ecnn_session_create(model.get(), &o, &s));
        session_.reset(s);
    }

    // Zero-copy: `data` must stay valid until run() returns; rebinding replaces it.
    template <typename T>
    void bind_input(const std::string& name, const T* data, const std::vector<int64_t>& shape) {
        check(ecnn_session_bind_input(session_.get(), name.c_str(), dtype_of<T>::value, shape.data(), shape.size(), data));
    }
    void bind_input(const std::string& name, ecnn_dtype dtype, const void* data, const std::vector<int64_t>& shape) {
        check(ecnn_session_bind_input(session_.get(), name.c_str(), dtype, shape.data(), shape.size(), data));
    }
    void run() { check(ecnn_session_run(session_.get())); }
    // Valid until the next run() or the session's end.
    TensorView output(size_t index) const {
        ecnn_tensor t;
        check(ecnn_session_output(session_.get(), index, &t));
        return TensorView(t);
    }
    TensorView output(const std::string& name) const {
        ecnn_tensor t;
        check(ecnn_session_output_by_name(session_.get(), name.c_str(), &t));
        return TensorView(t);
    }

private:
    struct Free {
        void operator()(ecnn_session* s) const { ecnn_session_free(s); }
    };
    std::unique_ptr<ecnn_session, Free> session_;
};

// ---- custom ops ----

// Read access to the node's attributes inside the callbacks.
class OpContext {
public:
    explicit OpContext(ecnn_op_context* ctx) : ctx_(ctx) {}
    int64_t attr_int(const std::string& name) const {
        int64_t v = 0;
        check(ecnn_op_attr_int(ctx_, name.c_str(), &v));
        return v;
    }
    float attr_float(const std::string& name) const {
        float v = 0;
        check(ecnn_op_attr_float(ctx_, name.c_str(), &v));
        return v;
    }

private:
    ecnn_op_context* ctx_;
};

struct CustomOp {
    std::string domain;
    std::string name;
    // Fills outputs[i].dtype and .shape (inputs[i].data is null unless constant).
    std::function<void(const OpContext&, const std::vector<TensorView>& inputs, std::vector<TensorView>& outputs)> infer;
    // Writes outputs[i].data (allocated with the inferred shapes).
    std::function<void(const OpContext&, const std::vector<TensorView>& inputs, const std::vector<TensorView>& outputs)> run;
};

namespace detail {
inline std::vector<TensorView> views(const ecnn_tensor* t, size_t n) {
    std::vector<TensorView> v;
    for (size_t i = 0; i < n; ++i) v.emplace_back(t[i]);
    return v;
}
// Exceptions stop here: the C side gets a code and the message.
template <typename F>
int call(ecnn_op_context* ctx, F&& f) {
    try {
        f();
        return 0;
    } catch (const std::exception& e) {
        ecnn_op_set_error(ctx, e.what());
    } catch (...) {
        ecnn_op_set_error(ctx, "unknown exception");
    }
    return 1;
}
}  // namespace detail

// Registers process-wide (before creating sessions that use it). The op object lives for
// the rest of the process: sessions may call it at any time.
inline void register_op(const CustomOp& op) {
    // Never freed: the registry outlives every session. The list hangs off a pointer with
    // static storage that is never destroyed, so leak checkers see the ops as reachable.
    static auto* registered = new std::vector<std::unique_ptr<CustomOp>>();
    auto* held = new CustomOp(op);
    ecnn_custom_op c{};
    c.struct_size = sizeof(c);
    c.domain = held->domain.c_str();
    c.name = held->name.c_str();
    c.user_data = held;
    c.infer = [](void* user, ecnn_op_context* ctx, const ecnn_tensor* in, size_t nin, ecnn_tensor* out, size_t nout) {
        return detail::call(ctx, [&] {
            std::vector<TensorView> outs(nout);
            static_cast<CustomOp*>(user)->infer(OpContext(ctx), detail::views(in, nin), outs);
            for (size_t i = 0; i < nout; ++i) {
                if (outs[i].shape.size() > ECNN_MAX_RANK) throw Error(ECNN_ERROR_INVALID, "output rank over ECNN_MAX_RANK");
                out[i].dtype = outs[i].dtype;
                out[i].rank = outs[i].shape.size();
                for (size_t d = 0; d < out[i].rank; ++d) out[i].shape[d] = outs[i].shape[d];
            }
        });
    };
    c.run = [](void* user, ecnn_op_context* ctx, const ecnn_tensor* in, size_t nin, ecnn_tensor* out, size_t nout) {
        return detail::call(ctx, [&] {
            static_cast<CustomOp*>(user)->run(OpContext(ctx), detail::views(in, nin), detail::views(out, nout));
        });
    };
    ecnn_status s = ecnn_register_custom_op(&c);
    if (s != ECNN_OK) {
        delete held;
        check(s);
    }
    registered->emplace_back(held);
}

}  // namespace ecnn
