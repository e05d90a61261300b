// The C API (include/edgecnn/edgecnn.h) over the engine: handles own shared pointers into
// the engine's objects; every entry point catches everything and turns it into a status
// plus a thread-local message, so no exception crosses the C boundary.
#include "edgecnn/edgecnn.h"

#include <cstddef>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "base/error.hpp"
#include "format/ecnn.hpp"
#include "ops/op.hpp"
#include "runtime/session.hpp"

using namespace edgecnn;

struct ecnn_model {
    std::shared_ptr<const Graph> graph;
    std::vector<std::string> input_names, output_names, class_names;
};

struct ecnn_session {
    std::shared_ptr<const Graph> graph;
    std::unique_ptr<Session> session;
    std::vector<std::pair<std::string, Tensor>> bound;  // views of the caller's buffers
    NamedTensors outputs;
};

struct ecnn_op_context {
    const std::map<std::string, Attribute>* attrs;
    std::string error;
};

namespace {

thread_local std::string t_last_error;

ecnn_status status_of(ErrorKind k) {
    switch (k) {
        case ErrorKind::Invalid: return ECNN_ERROR_INVALID;
        case ErrorKind::Unsupported: return ECNN_ERROR_UNSUPPORTED;
        case ErrorKind::Io: return ECNN_ERROR_IO;
        case ErrorKind::Limit: return ECNN_ERROR_LIMIT;
        case ErrorKind::Internal: return ECNN_ERROR_INTERNAL;
    }
    return ECNN_ERROR_INTERNAL;
}

template <typename F>
ecnn_status guarded(F&& f) {
    try {
        f();
        t_last_error.clear();
        return ECNN_OK;
    } catch (const Error& e) {
        t_last_error = e.what();
        return status_of(e.kind());
    } catch (const std::bad_alloc&) {
        t_last_error = "out of memory";
        return ECNN_ERROR_LIMIT;
    } catch (const std::exception& e) {
        t_last_error = e.what();
        return ECNN_ERROR_INTERNAL;
    } catch (...) {
        t_last_error = "unknown error";
        return ECNN_ERROR_INTERNAL;
    }
}

void require(bool cond, const char* what) {
    if (!cond) fail(std::string("invalid argument: ") + what);
}

void to_c(const Tensor& t, ecnn_tensor* out) {
    if (t.rank() > ECNN_MAX_RANK) fail("tensor of rank " + std::to_string(t.rank()) + " exceeds ECNN_MAX_RANK");
    out->dtype = ecnn_dtype(int(t.dtype()));
    out->rank = t.rank();
    for (size_t i = 0; i < t.rank(); ++i) out->shape[i] = t.dim(i);
    out->data = const_cast<void*>(t.raw());
}

ecnn_model* make_model(EcnnModel m) {
    auto* h = new ecnn_model;
    h->graph = m.graph;
    for (ValueId id : m.graph->inputs) h->input_names.push_back(m.graph->value(id).name);
    for (ValueId id : m.graph->outputs) h->output_names.push_back(m.graph->value(id).name);
    auto it = m.graph->metadata.find("class_names");
    if (it != m.graph->metadata.end()) {
        size_t b = 0;
        const std::string& s = it->second;
        while (b < s.size()) {
            size_t e = s.find('\n', b);
            if (e == std::string::npos) e = s.size();
            h->class_names.push_back(s.substr(b, e - b));
            b = e + 1;
        }
    }
    return h;
}

EcnnLoadOptions load_options(const ecnn_load_options* o) {
    EcnnLoadOptions lo;
    if (o) {
        require(o->struct_size >= sizeof(uint32_t) + sizeof(int), "ecnn_load_options.struct_size");
        lo.verify_checksum = o->verify_checksum != 0;
    }
    return lo;
}

// A node of a custom op: the registered callbacks, the node's attributes.
class CustomKernel : public OpKernel {
public:
    CustomKernel(const ecnn_custom_op& op, const Node& node) : op_(op), attrs_(node.attrs), label_(node.label()) {}

    bool infer(const std::vector<ValueInfo>& in, std::vector<ValueInfo>& out) override {
        std::vector<ecnn_tensor> ci(in.size()), co(out.size());
        for (size_t i = 0; i < in.size(); ++i) {
            ci[i] = {};
            if (!in[i].present) continue;
            ci[i].dtype = ecnn_dtype(int(in[i].dtype));
            if (in[i].shape.size() > ECNN_MAX_RANK) fail("input of rank over ECNN_MAX_RANK");
            ci[i].rank = in[i].shape.size();
            for (size_t d = 0; d < ci[i].rank; ++d) ci[i].shape[d] = in[i].shape[d];
            ci[i].data = in[i].data ? const_cast<void*>(in[i].data->raw()) : nullptr;
        }
        for (auto& o : co) o = {};
        ecnn_op_context ctx{&attrs_, {}};
        int rc = op_.infer(op_.user_data, &ctx, ci.data(), ci.size(), co.data(), co.size());
        if (rc != 0) fail("custom shape function failed (" + std::to_string(rc) + ")" + (ctx.error.empty() ? "" : ": " + ctx.error));
        for (size_t o = 0; o < out.size(); ++o) {
            if (!out[o].present) continue;
            if (co[o].rank > ECNN_MAX_RANK || !dtype_known(int(co[o].dtype)) || co[o].dtype == ECNN_UNDEFINED)
                fail("custom shape function gave output " + std::to_string(o) + " no valid dtype/rank");
            out[o].dtype = DType(int(co[o].dtype));
            out[o].shape.assign(co[o].shape, co[o].shape + co[o].rank);
            (void)shape_numel(out[o].shape);  // rejects negative dims
        }
        return true;
    }

    void run(const std::vector<const Tensor*>& in, const std::vector<Tensor*>& out) override {
        std::vector<ecnn_tensor> ci(in.size()), co(out.size());
        for (size_t i = 0; i < in.size(); ++i) {
            ci[i] = {};
            if (in[i]) to_c(*in[i], &ci[i]);
        }
        for (size_t o = 0; o < out.size(); ++o) {
            co[o] = {};
            if (out[o]) to_c(*out[o], &co[o]);
        }
        ecnn_op_context ctx{&attrs_, {}};
        int rc = op_.run(op_.user_data, &ctx, ci.data(), ci.size(), co.data(), co.size());
        if (rc != 0) fail("custom kernel failed (" + std::to_string(rc) + ")" + (ctx.error.empty() ? "" : ": " + ctx.error));
    }

    std::string kernel_name() const override { return std::string("custom:") + op_.name; }

private:
    ecnn_custom_op op_;
    std::map<std::string, Attribute> attrs_;
    std::string label_;
};

// Names copied at registration: the caller's strings may be temporaries.
struct RegisteredOp {
    std::string domain, name;
    ecnn_custom_op op;
};

}  // namespace

extern "C" {

uint32_t ecnn_abi_version(void) { return EDGECNN_ABI_VERSION; }
const char* ecnn_version_string(void) { return EDGECNN_VERSION_STRING; }
const char* ecnn_last_error(void) { return t_last_error.c_str(); }
size_t ecnn_dtype_size(ecnn_dtype dtype) { return dtype_known(int(dtype)) ? dtype_size(DType(int(dtype))) : 0; }

void ecnn_load_options_init(ecnn_load_options* o) {
    if (!o) return;
    o->struct_size = sizeof(*o);
    o->verify_checksum = 1;
}

ecnn_status ecnn_model_load_file(const char* path, const ecnn_load_options* options, ecnn_model** model) {
    return guarded([&] {
        require(path && model, "path and model must not be NULL");
        *model = nullptr;
        *model = make_model(load_ecnn_file(path, load_options(options)));
    });
}

ecnn_status ecnn_model_load_memory(const void* data, size_t size, const ecnn_load_options* options, ecnn_model** model) {
    return guarded([&] {
        require((data || size == 0) && model, "data and model must not be NULL");
        *model = nullptr;
        *model = make_model(load_ecnn_bytes(data, size, "<memory>", load_options(options)));
    });
}

void ecnn_model_free(ecnn_model* model) { delete model; }

size_t ecnn_model_input_count(const ecnn_model* m) { return m ? m->input_names.size() : 0; }
size_t ecnn_model_output_count(const ecnn_model* m) { return m ? m->output_names.size() : 0; }
const char* ecnn_model_input_name(const ecnn_model* m, size_t i) {
    return m && i < m->input_names.size() ? m->input_names[i].c_str() : nullptr;
}
const char* ecnn_model_output_name(const ecnn_model* m, size_t i) {
    return m && i < m->output_names.size() ? m->output_names[i].c_str() : nullptr;
}

ecnn_status ecnn_model_input_info(const ecnn_model* m, size_t index, ecnn_tensor* info) {
    return guarded([&] {
        require(m && info, "model and info must not be NULL");
        require(index < m->input_names.size(), "input index out of range");
        const Value& v = m->graph->value(m->graph->inputs[index]);
        *info = {};
        info->dtype = ecnn_dtype(int(v.dtype));
        if (v.shape) {
            if (v.shape->size() > ECNN_MAX_RANK) fail("input of rank over ECNN_MAX_RANK");
            info->rank = v.shape->size();
            for (size_t d = 0; d < info->rank; ++d) info->shape[d] = (*v.shape)[d].is_static() ? (*v.shape)[d].value : -1;
        }
    });
}

size_t ecnn_model_class_count(const ecnn_model* m) { return m ? m->class_names.size() : 0; }
const char* ecnn_model_class_name(const ecnn_model* m, size_t i) {
    return m && i < m->class_names.size() ? m->class_names[i].c_str() : nullptr;
}
const char* ecnn_model_metadata(const ecnn_model* m, const char* key) {
    if (!m || !key) return nullptr;
    auto it = m->graph->metadata.find(key);
    return it == m->graph->metadata.end() ? nullptr : it->second.c_str();
}

void ecnn_session_options_init(ecnn_session_options* o) {
    if (!o) return;
    o->struct_size = sizeof(*o);
    o->num_threads = 1;
    o->max_arena_bytes = 0;
    o->optimization_level = 1;
    o->fpmath = ECNN_FPMATH_F32;
}

ecnn_status ecnn_session_create(const ecnn_model* model, const ecnn_session_options* options, ecnn_session** session) {
    return guarded([&] {
        require(model && session, "model and session must not be NULL");
        *session = nullptr;
        SessionOptions so;
        if (options) {
            // Callers built before `fpmath` existed pass the shorter struct.
            require(options->struct_size >= offsetof(ecnn_session_options, fpmath), "ecnn_session_options.struct_size");
            require(options->num_threads >= 1, "num_threads must be at least 1");
            require(options->max_arena_bytes >= 0, "max_arena_bytes must not be negative");
            so.num_threads = options->num_threads;
            so.max_arena_bytes = options->max_arena_bytes;
            so.optimization_level = options->optimization_level;
            if (options->struct_size >= offsetof(ecnn_session_options, fpmath) + sizeof(options->fpmath)) {
                require(options->fpmath == ECNN_FPMATH_F32 || options->fpmath == ECNN_FPMATH_BF16,
                        "fpmath must be ECNN_FPMATH_F32 or ECNN_FPMATH_BF16");
                so.fpmath = options->fpmath == ECNN_FPMATH_BF16 ? FpMath::Bf16 : FpMath::F32;
            }
        }
        auto h = std::make_unique<ecnn_session>();
        h->graph = model->graph;
        h->session = std::make_unique<Session>(model->graph, so);
        *session = h.release();
    });
}

void ecnn_session_free(ecnn_session* session) { delete session; }

ecnn_status ecnn_session_bind_input(ecnn_session* s, const char* name, ecnn_dtype dtype, const int64_t* shape,
                                    size_t rank, const void* data) {
    return guarded([&] {
        require(s && name && (shape || rank == 0), "session, name and shape must not be NULL");
        require(dtype_known(int(dtype)) && dtype != ECNN_UNDEFINED, "unknown dtype");
        Shape sh(shape, shape + rank);
        int64_t n = shape_numel(sh);
        require(data || n == 0, "data must not be NULL");
        const Graph& g = *s->graph;
        bool known = false;
        for (ValueId id : g.inputs) known = known || g.value(id).name == name;
        if (!known) fail(std::string("the model has no input named '") + name + "'");
        Tensor view = Tensor::view(DType(int(dtype)), sh, const_cast<void*>(data));
        for (auto& [k, t] : s->bound)
            if (k == name) {
                t = view;
                return;
            }
        s->bound.emplace_back(name, view);
    });
}

ecnn_status ecnn_session_run(ecnn_session* s) {
    return guarded([&] {
        require(s, "session must not be NULL");
        s->outputs.clear();
        s->outputs = s->session->run(s->bound);
    });
}

ecnn_status ecnn_session_output(ecnn_session* s, size_t index, ecnn_tensor* out) {
    return guarded([&] {
        require(s && out, "session and out must not be NULL");
        if (index >= s->outputs.size())
            fail(s->outputs.empty() ? "no outputs: run the session first" : "output index out of range");
        to_c(s->outputs[index].second, out);
    });
}

ecnn_status ecnn_session_output_by_name(ecnn_session* s, const char* name, ecnn_tensor* out) {
    return guarded([&] {
        require(s && name && out, "session, name and out must not be NULL");
        for (const auto& [k, t] : s->outputs)
            if (k == name) return to_c(t, out);
        fail(s->outputs.empty() ? std::string("no outputs: run the session first")
                                : std::string("the model has no output named '") + name + "'");
    });
}

ecnn_status ecnn_op_attr_int(const ecnn_op_context* ctx, const char* name, int64_t* value) {
    return guarded([&] {
        require(ctx && name && value, "ctx, name and value must not be NULL");
        auto it = ctx->attrs->find(name);
        if (it == ctx->attrs->end() || it->second.kind != Attribute::Kind::Int)
            fail(std::string("no int attribute '") + name + "'");
        *value = it->second.i;
    });
}

ecnn_status ecnn_op_attr_float(const ecnn_op_context* ctx, const char* name, float* value) {
    return guarded([&] {
        require(ctx && name && value, "ctx, name and value must not be NULL");
        auto it = ctx->attrs->find(name);
        if (it == ctx->attrs->end() || it->second.kind != Attribute::Kind::Float)
            fail(std::string("no float attribute '") + name + "'");
        *value = it->second.f;
    });
}

void ecnn_op_set_error(ecnn_op_context* ctx, const char* message) {
    if (ctx && message) ctx->error = message;
}

ecnn_status ecnn_register_custom_op(const ecnn_custom_op* op) {
    return guarded([&] {
        require(op && op->struct_size >= sizeof(ecnn_custom_op), "op and its struct_size");
        require(op->domain && op->name && op->infer && op->run, "domain, name, infer and run must be set");
        auto reg = std::make_shared<RegisteredOp>();
        reg->domain = op->domain;
        reg->name = op->name;
        reg->op = *op;
        reg->op.domain = reg->domain.c_str();
        reg->op.name = reg->name.c_str();
        register_custom_op(reg->domain, reg->name, [reg](const OpAttrs& a) -> std::unique_ptr<OpKernel> {
            for (const auto& [key, attr] : a.node().attrs) a.ignore(key);  // the callbacks read them
            return std::make_unique<CustomKernel>(reg->op, a.node());
        });
    });
}

}  // extern "C"
