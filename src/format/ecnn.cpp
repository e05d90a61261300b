#include "format/ecnn.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <limits>

#include "base/cpu_features.hpp"
#include "base/error.hpp"
#include "format/ecnn_generated.h"

// XXH3 inlined: the runtime must not depend on a shared libxxhash.
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace edgecnn {

namespace {

constexpr char kMagic[4] = {'E', 'C', 'N', 'N'};
constexpr uint32_t kFlagFp16Weights = 1u;
constexpr size_t kHeaderHashAt = 120;

// Where a tensor of `nbytes` stored bytes starts in the data section: 64-byte aligned (a
// cache line, the widest vector) from 64 bytes up; smaller ones (biases of a few channels,
// shape constants) at 16 bytes, so that padding does not undo --fp16-weights' savings.
size_t tensor_alignment(uint64_t nbytes) { return nbytes >= 64 ? 64 : 16; }
// Float16 bytes are widened into fresh aligned memory at load, never used in place: they
// need no alignment beyond what reading them does (16 keeps rows of small tensors apart).
constexpr size_t kWidenedAlignment = 16;

struct Header {
    uint16_t major = 0, minor = 0;
    uint32_t header_size = 0, flags = 0;
    uint64_t graph_offset = 0, graph_size = 0, data_offset = 0, data_size = 0;
    uint64_t graph_hash = 0, data_hash = 0;
};

template <typename T>
T get_le(const uint8_t* p) {
    T v{};
    for (size_t i = 0; i < sizeof(T); ++i) v = T(v | (T(p[i]) << (8 * i)));
    return v;
}
template <typename T>
void put_le(uint8_t* p, T v) {
    for (size_t i = 0; i < sizeof(T); ++i) p[i] = uint8_t(uint64_t(v) >> (8 * i));
}

uint64_t hash_bytes(const void* p, size_t n) { return XXH3_64bits(p, n); }

std::shared_ptr<void> aligned_copy(const void* data, size_t size) {
    size_t n = std::max<size_t>(64, (size + 63) / 64 * 64);
    void* p = std::aligned_alloc(64, n);
    if (!p) throw Error(ErrorKind::Limit, "out of memory copying " + std::to_string(size) + " bytes");
    if (size) std::memcpy(p, data, size);
    return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

// ---------------------------------------------------------------- reading

class Reader {
public:
    Reader(const uint8_t* file, size_t size, std::shared_ptr<void> owner, std::string name, const EcnnLoadOptions& o)
        : file_(file), size_(size), owner_(std::move(owner)), name_(std::move(name)), options_(o) {}

    EcnnModel read() {
        Header h = read_header();
        const uint8_t* graph_bytes = file_ + h.graph_offset;
        if (hash_bytes(graph_bytes, h.graph_size) != h.graph_hash)
            bad("graph section checksum mismatch (the file is damaged)");
        data_ = file_ + h.data_offset;
        data_size_ = h.data_size;
        if (options_.verify_checksum && hash_bytes(data_, data_size_) != h.data_hash)
            bad("weights checksum mismatch (the file is damaged)");
        flatbuffers::Verifier::Options vo;
        vo.max_depth = 16;
        vo.max_tables = 100'000'000;
        flatbuffers::Verifier verifier(graph_bytes, h.graph_size, vo);
        if (!fb::VerifyModelBuffer(verifier)) bad("graph section is malformed");
        const fb::Model* m = fb::GetModel(graph_bytes);

        EcnnModel out;
        out.info.version_major = h.major;
        out.info.version_minor = h.minor;
        out.info.fp16_weights = (h.flags & kFlagFp16Weights) != 0;
        out.info.target = m->target() ? m->target()->str() : "portable";
        out.info.converter = m->converter() ? m->converter()->str() : "";
        out.info.file_bytes = int64_t(size_);
        check_ecnn_target(out.info.target, name_);

        auto g = std::make_shared<Graph>();
        g->source = name_;
        g->name = str(m->name());
        g->producer = str(m->producer());
        g->ir_version = m->ir_version();
        g->opset = m->opset();
        g->optimized = m->optimized();
        if (m->preprocess()) g->metadata["preprocess"] = m->preprocess()->str();
        if (m->class_names()) {
            std::string names;
            for (const auto* s : *m->class_names()) names += (s ? s->str() : std::string()) + "\n";
            g->metadata["class_names"] = names;
        }
        const auto* values = m->values();
        const size_t nvalues = values ? values->size() : 0;
        for (size_t v = 0; v < nvalues; ++v) {
            const fb::Value* fv = values->Get(flatbuffers::uoffset_t(v));
            Value val;
            val.name = fv->name()->str();
            val.dtype = dtype_of(fv->dtype(), "value '" + val.name + "'");
            if (fv->has_shape()) {
                std::vector<Dim> dims;
                const auto* fd = fv->dims();
                const auto* fp = fv->dim_params();
                size_t rank = fd ? fd->size() : 0;
                if (fp && fp->size() != rank) bad("value '" + val.name + "': dims and dim names disagree");
                for (size_t d = 0; d < rank; ++d) {
                    Dim dim;
                    dim.value = fd->Get(flatbuffers::uoffset_t(d))->value();
                    if (dim.value < -1) bad("value '" + val.name + "': bad dim " + std::to_string(dim.value));
                    if (fp) dim.param = str(fp->Get(flatbuffers::uoffset_t(d)));
                    dims.push_back(dim);
                }
                val.shape = dims;
            }
            if (fv->constant()) {
                val.constant = std::make_shared<const Tensor>(tensor(fv->constant(), "value '" + val.name + "'"));
                std::vector<Dim> dims(val.constant->rank());
                for (size_t d = 0; d < dims.size(); ++d) dims[d].value = val.constant->dim(d);
                val.shape = dims;
            }
            if (g->find(val.name) != kNoValue) bad("value name '" + val.name + "' appears twice");
            g->add_value(std::move(val));
        }
        const auto* nodes = m->nodes();
        for (size_t n = 0; nodes && n < nodes->size(); ++n) {
            const fb::Node* fn = nodes->Get(flatbuffers::uoffset_t(n));
            Node node;
            node.name = str(fn->name());
            node.op_type = fn->op_type()->str();
            node.domain = str(fn->domain());
            node.inputs = ids(fn->inputs(), nvalues, true, node.label() + " input");
            node.outputs = ids(fn->outputs(), nvalues, true, node.label() + " output");
            for (size_t a = 0; fn->attrs() && a < fn->attrs()->size(); ++a) {
                const fb::Attr* fa = fn->attrs()->Get(flatbuffers::uoffset_t(a));
                node.attrs[fa->name()->str()] = attribute(fa, node.label() + " attribute '" + fa->name()->str() + "'");
            }
            g->nodes.push_back(std::move(node));
        }
        g->inputs = ids(m->inputs(), nvalues, false, "graph input");
        g->outputs = ids(m->outputs(), nvalues, false, "graph output");
        try {
            verify_and_sort(*g);
        } catch (const Error& e) {
            throw e.with_prefix(name_ + ": ");
        }
        out.graph = std::move(g);
        return out;
    }

private:
    [[noreturn]] void bad(const std::string& msg) const { throw Error(ErrorKind::Invalid, name_ + ": " + msg); }

    static std::string str(const flatbuffers::String* s) { return s ? s->str() : std::string(); }

    Header read_header() {
        if (size_ < 8 || std::memcmp(file_, kMagic, 4) != 0) bad("not an .ecnn file (wrong magic)");
        Header h;
        h.major = get_le<uint16_t>(file_ + 4);
        h.minor = get_le<uint16_t>(file_ + 6);
        if (h.major != kEcnnVersionMajor)
            throw Error(ErrorKind::Unsupported, name_ + ": .ecnn version " + std::to_string(h.major) + "." +
                                                    std::to_string(h.minor) + " is not supported (this runtime reads " +
                                                    std::to_string(kEcnnVersionMajor) + ".x)");
        if (size_ < kEcnnHeaderSize) bad("truncated (" + std::to_string(size_) + " bytes, shorter than the header)");
        h.header_size = get_le<uint32_t>(file_ + 8);
        h.flags = get_le<uint32_t>(file_ + 12);
        h.graph_offset = get_le<uint64_t>(file_ + 16);
        h.graph_size = get_le<uint64_t>(file_ + 24);
        h.data_offset = get_le<uint64_t>(file_ + 32);
        h.data_size = get_le<uint64_t>(file_ + 40);
        h.graph_hash = get_le<uint64_t>(file_ + 48);
        h.data_hash = get_le<uint64_t>(file_ + 56);
        if (get_le<uint64_t>(file_ + kHeaderHashAt) != hash_bytes(file_, kHeaderHashAt))
            bad("header checksum mismatch (the file is damaged)");
        if (h.header_size != kEcnnHeaderSize) bad("bad header size " + std::to_string(h.header_size));
        auto in_file = [&](uint64_t off, uint64_t n) { return off <= size_ && n <= size_ - off; };
        if (!in_file(h.graph_offset, h.graph_size) || h.graph_offset < kEcnnHeaderSize || h.graph_size < 8)
            bad("truncated or damaged: graph section [" + std::to_string(h.graph_offset) + ", +" +
                std::to_string(h.graph_size) + ") outside the file's " + std::to_string(size_) + " bytes");
        // The flatbuffer reads 8-byte scalars (int64 dims) in place: its section must start on
        // an 8-byte boundary of the (64-byte aligned) file buffer. The writer puts it at 128.
        if (h.graph_offset % 8 != 0)
            bad("damaged: graph section offset " + std::to_string(h.graph_offset) + " is not a multiple of 8");
        if (!in_file(h.data_offset, h.data_size) || h.data_offset % 64 != 0)
            bad("truncated or damaged: data section [" + std::to_string(h.data_offset) + ", +" +
                std::to_string(h.data_size) + ") outside the file's " + std::to_string(size_) + " bytes");
        if (h.graph_size > uint64_t(std::numeric_limits<flatbuffers::soffset_t>::max()))
            bad("graph section too large");
        return h;
    }

    // A [long] vector's elements. The verifier of Debian's flatbuffers checks only the 4-byte
    // alignment of a vector's length field, so a damaged file can put 8-byte elements off
    // an 8-byte boundary, where reading them in place is undefined: they are copied out.
    static std::vector<int64_t> longs(const flatbuffers::Vector<int64_t>* v) {
        std::vector<int64_t> out(v->size());
        for (size_t i = 0; i < out.size(); ++i) {
            int64_t x;
            std::memcpy(&x, v->Data() + i * sizeof(int64_t), sizeof x);
            out[i] = flatbuffers::EndianScalar(x);
        }
        return out;
    }

    DType dtype_of(int code, const std::string& what) const {
        if (code == 0) return DType::Undefined;
        if (!dtype_known(code) || code == int(DType::String)) bad(what + ": unsupported dtype code " + std::to_string(code));
        return DType(code);
    }

    std::vector<ValueId> ids(const flatbuffers::Vector<int32_t>* v, size_t nvalues, bool allow_omitted,
                             const std::string& what) const {
        std::vector<ValueId> out;
        for (size_t i = 0; v && i < v->size(); ++i) {
            int32_t id = v->Get(flatbuffers::uoffset_t(i));
            if ((id == kNoValue && allow_omitted) || (id >= 0 && size_t(id) < nvalues)) out.push_back(id);
            else bad(what + " #" + std::to_string(i) + " refers to value " + std::to_string(id) + " of " +
                     std::to_string(nvalues));
        }
        return out;
    }

    Tensor tensor(const fb::TensorRef* r, const std::string& what) const {
        DType dt = dtype_of(r->dtype(), what);
        DType st = r->stored() == 0 ? dt : dtype_of(r->stored(), what);
        if (dt == DType::Undefined) bad(what + ": tensor without dtype");
        if (st != dt && !(dt == DType::F32 && (st == DType::F16 || st == DType::I16)))
            bad(what + ": stored as " + dtype_name(st) + " for a " + dtype_name(dt) + " tensor");
        Shape shape;
        if (r->shape()) shape = longs(r->shape());
        int64_t numel;
        try {
            numel = shape_numel(shape);
        } catch (const Error& e) {
            bad(what + ": " + e.what());
        }
        uint64_t need = uint64_t(numel) * dtype_size(st);
        if (numel > 0 && need / uint64_t(numel) != dtype_size(st)) bad(what + ": tensor too large");
        if (r->nbytes() != need)
            bad(what + ": " + std::to_string(r->nbytes()) + " stored bytes for shape " + shape_str(shape) + " " +
                dtype_name(st));
        if (r->offset() > data_size_ || need > data_size_ - r->offset())
            bad(what + ": data [" + std::to_string(r->offset()) + ", +" + std::to_string(need) +
                ") outside the data section (" + std::to_string(data_size_) + " bytes)");
        const size_t align = st == dt ? tensor_alignment(need) : kWidenedAlignment;
        if (r->offset() % align != 0)
            bad(what + ": data at offset " + std::to_string(r->offset()) + " is not " + std::to_string(align) +
                "-byte aligned");
        if (int64_t(need) > max_tensor_bytes())
            throw Error(ErrorKind::Limit, name_ + ": " + what + ": " + std::to_string(need) + " bytes exceed the tensor limit");
        void* p = const_cast<uint8_t*>(data_ + r->offset());
        if (st == dt) return Tensor::view(dt, shape, p, owner_);
        // --fp16-weights: widen once at load.
        Tensor t = Tensor::uninitialized(DType::F32, shape);
        const uint8_t* src = static_cast<const uint8_t*>(p);
        float* dst = t.data<float>();
        if (st == DType::F16) {
            for (int64_t i = 0; i < numel; ++i) dst[i] = half_to_float(get_le<uint16_t>(src + 2 * i));
            return t;
        }
        const auto* sc = r->scales();
        const size_t slices = sc ? sc->size() : 0;
        if (slices == 0 || (slices != 1 && (shape.empty() || int64_t(slices) != shape[0])))
            bad(what + ": int16 tensor with " + std::to_string(slices) + " scales for shape " + shape_str(shape));
        const int64_t per = numel / int64_t(slices);
        for (size_t s = 0; s < slices; ++s) {
            const float k = sc->Get(flatbuffers::uoffset_t(s));
            if (!std::isfinite(k)) bad(what + ": non-finite int16 scale");
            for (int64_t i = int64_t(s) * per; i < int64_t(s + 1) * per; ++i)
                dst[i] = float(int16_t(get_le<uint16_t>(src + 2 * i))) * k;
        }
        return t;
    }

    Attribute attribute(const fb::Attr* a, const std::string& what) const {
        Attribute at;
        switch (a->kind()) {
            case fb::AttrKind::Int: at.kind = Attribute::Kind::Int; at.i = a->i(); break;
            case fb::AttrKind::Float: at.kind = Attribute::Kind::Float; at.f = a->f(); break;
            case fb::AttrKind::String: at.kind = Attribute::Kind::String; at.s = str(a->s()); break;
            case fb::AttrKind::Ints:
                at.kind = Attribute::Kind::Ints;
                if (a->ints()) at.ints = longs(a->ints());
                break;
            case fb::AttrKind::Floats:
                at.kind = Attribute::Kind::Floats;
                if (a->floats()) at.floats.assign(a->floats()->begin(), a->floats()->end());
                break;
            case fb::AttrKind::Strings:
                at.kind = Attribute::Kind::Strings;
                for (size_t i = 0; a->strings() && i < a->strings()->size(); ++i)
                    at.strings.push_back(str(a->strings()->Get(flatbuffers::uoffset_t(i))));
                break;
            case fb::AttrKind::Tensor:
                at.kind = Attribute::Kind::Tensor;
                if (!a->t()) bad(what + ": tensor attribute without a tensor");
                at.t = std::make_shared<Tensor>(tensor(a->t(), what));
                break;
            default: bad(what + ": unknown attribute kind " + std::to_string(int(a->kind())));
        }
        return at;
    }

    const uint8_t* file_;
    size_t size_;
    std::shared_ptr<void> owner_;
    std::string name_;
    EcnnLoadOptions options_;
    const uint8_t* data_ = nullptr;
    uint64_t data_size_ = 0;
};

// ---------------------------------------------------------------- writing

class Writer {
public:
    explicit Writer(const EcnnWriteOptions& o) : options_(o) {}

    std::vector<uint8_t> write(const Graph& graph) {
        const Graph g = compacted(graph);
        std::vector<flatbuffers::Offset<fb::Value>> values;
        for (const Value& v : g.values) {
            auto name = fbb_.CreateString(v.name);
            flatbuffers::Offset<flatbuffers::Vector<const fb::Dim*>> dims;
            flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>> params;
            if (v.shape && !v.constant) {  // a constant's shape is its tensor's
                std::vector<fb::Dim> d;
                std::vector<flatbuffers::Offset<flatbuffers::String>> p;
                bool named = false;
                for (const Dim& dim : *v.shape) {
                    d.emplace_back(dim.is_static() ? dim.value : -1);
                    named = named || !dim.param.empty();
                }
                dims = fbb_.CreateVectorOfStructs(d);
                if (named) {  // most values have no named dims: no vector of empty strings
                    for (const Dim& dim : *v.shape) p.push_back(fbb_.CreateSharedString(dim.param));
                    params = fbb_.CreateVector(p);
                }
            }
            flatbuffers::Offset<fb::TensorRef> c;
            if (v.constant && options_.fp16_weights && options_.int16_values.count(v.name) && v.constant->rank() >= 1 &&
                fp16_storable(*v.constant))
                c = int16_tensor(*v.constant);
            else if (v.constant) c = tensor(*v.constant, options_.fp16_weights && to_fp16(v.name, *v.constant));
            values.push_back(fb::CreateValue(fbb_, name, int(v.dtype), v.shape.has_value() && !v.constant, dims, params, c));
        }
        std::vector<flatbuffers::Offset<fb::Node>> nodes;
        for (const Node& n : g.nodes) {
            std::vector<flatbuffers::Offset<fb::Attr>> attrs;
            for (const auto& [key, a] : n.attrs) attrs.push_back(attribute(key, a, n));
            // Op types, domains and attribute names repeat: shared strings store each once.
            nodes.push_back(fb::CreateNode(fbb_, fbb_.CreateString(n.name), fbb_.CreateSharedString(n.op_type),
                                           n.domain.empty() ? 0 : fbb_.CreateSharedString(n.domain), fbb_.CreateVector(n.inputs),
                                           fbb_.CreateVector(n.outputs), fbb_.CreateVector(attrs)));
        }
        std::vector<flatbuffers::Offset<flatbuffers::String>> classes;
        for (const std::string& c : options_.class_names) classes.push_back(fbb_.CreateString(c));
        auto model = fb::CreateModel(
            fbb_, fbb_.CreateString(g.name), fbb_.CreateString(g.producer), g.ir_version, g.opset, g.optimized,
            fbb_.CreateVector(values), fbb_.CreateVector(nodes), fbb_.CreateVector(g.inputs), fbb_.CreateVector(g.outputs),
            options_.preprocess.empty() ? 0 : fbb_.CreateString(options_.preprocess),
            options_.class_names.empty() ? 0 : fbb_.CreateVector(classes), fbb_.CreateString(options_.target),
            fbb_.CreateString(options_.converter));
        fb::FinishModelBuffer(fbb_, model);

        const uint8_t* gb = fbb_.GetBufferPointer();
        size_t gs = fbb_.GetSize();
        size_t data_offset = (kEcnnHeaderSize + gs + 63) / 64 * 64;
        std::vector<uint8_t> file(data_offset + data_.size(), 0);
        std::memcpy(file.data(), kMagic, 4);
        put_le<uint16_t>(&file[4], kEcnnVersionMajor);
        put_le<uint16_t>(&file[6], kEcnnVersionMinor);
        put_le<uint32_t>(&file[8], uint32_t(kEcnnHeaderSize));
        put_le<uint32_t>(&file[12], options_.fp16_weights ? kFlagFp16Weights : 0u);
        put_le<uint64_t>(&file[16], kEcnnHeaderSize);
        put_le<uint64_t>(&file[24], gs);
        put_le<uint64_t>(&file[32], data_offset);
        put_le<uint64_t>(&file[40], data_.size());
        put_le<uint64_t>(&file[48], hash_bytes(gb, gs));
        put_le<uint64_t>(&file[56], hash_bytes(data_.data(), data_.size()));
        put_le<uint64_t>(&file[kHeaderHashAt], hash_bytes(file.data(), kHeaderHashAt));
        std::memcpy(&file[kEcnnHeaderSize], gb, gs);
        if (!data_.empty()) std::memcpy(&file[data_offset], data_.data(), data_.size());
        return file;
    }

private:
    // Only the values a node, input or output refers to: passes leave replaced weights
    // (pre-BatchNorm-folding, pre-fusion) in the value table.
    static Graph compacted(const Graph& g) {
        std::vector<ValueId> remap(g.values.size(), kNoValue);
        Graph out;
        out.name = g.name;
        out.source = g.source;
        out.ir_version = g.ir_version;
        out.opset = g.opset;
        out.producer = g.producer;
        out.optimized = g.optimized;
        out.metadata = g.metadata;
        auto use = [&](ValueId id) -> ValueId {
            if (id == kNoValue) return kNoValue;
            ValueId& r = remap.at(size_t(id));
            if (r == kNoValue) {
                Value v = g.value(id);
                v.producer = -1;
                r = out.add_value(std::move(v));
            }
            return r;
        };
        for (ValueId id : g.inputs) out.inputs.push_back(use(id));
        for (const Node& n : g.nodes) {
            Node m = n;
            for (ValueId& id : m.inputs) id = use(id);
            for (ValueId& id : m.outputs) id = use(id);
            out.nodes.push_back(std::move(m));
        }
        for (ValueId id : g.outputs) out.outputs.push_back(use(id));
        return out;
    }

    flatbuffers::Offset<fb::TensorRef> tensor(const Tensor& t, bool fp16) {
        if (t.dtype() == DType::String || t.dtype() == DType::Undefined)
            fail_unsupported("tensors of type " + dtype_name(t.dtype()) + " cannot be stored in an .ecnn file");
        DType st = fp16 && t.dtype() == DType::F32 && fp16_storable(t) ? DType::F16 : t.dtype();
        size_t n = size_t(t.numel()) * dtype_size(st);
        size_t align = st == t.dtype() ? tensor_alignment(n) : kWidenedAlignment;
        size_t offset = (data_.size() + align - 1) / align * align;
        data_.resize(offset + n, 0);
        if (st == t.dtype()) {
            if (n) std::memcpy(&data_[offset], t.raw(), n);
        } else {
            const float* src = static_cast<const float*>(t.raw());
            for (int64_t i = 0; i < t.numel(); ++i) put_le<uint16_t>(&data_[offset + 2 * size_t(i)], float_to_half(src[i]));
        }
        return fb::CreateTensorRef(fbb_, int(t.dtype()), st == t.dtype() ? 0 : int(st), fbb_.CreateVector(t.shape()), offset, n);
    }

    // Symmetric int16 per slice of the first dim: scale = max|slice| / 32767.
    flatbuffers::Offset<fb::TensorRef> int16_tensor(const Tensor& t) {
        const int64_t slices = t.dim(0) > 0 ? t.dim(0) : 1, per = t.numel() / slices;
        const float* src = static_cast<const float*>(t.raw());
        size_t n = size_t(t.numel()) * 2;
        size_t offset = (data_.size() + kWidenedAlignment - 1) / kWidenedAlignment * kWidenedAlignment;
        data_.resize(offset + n, 0);
        std::vector<float> scales(size_t(slices), 1.f);
        for (int64_t s = 0; s < slices; ++s) {
            float mx = 0;
            for (int64_t i = s * per; i < (s + 1) * per; ++i) mx = std::max(mx, std::fabs(src[i]));
            if (mx > 0) scales[size_t(s)] = mx / 32767.f;
            for (int64_t i = s * per; i < (s + 1) * per; ++i) {
                long q = std::lround(src[i] / scales[size_t(s)]);
                put_le<uint16_t>(&data_[offset + 2 * size_t(i)], uint16_t(int16_t(std::clamp(q, -32767L, 32767L))));
            }
        }
        return fb::CreateTensorRef(fbb_, int(t.dtype()), int(DType::I16), fbb_.CreateVector(t.shape()), offset, n,
                                   fbb_.CreateVector(scales));
    }

    flatbuffers::Offset<fb::Attr> attribute(const std::string& key, const Attribute& a, const Node& n) {
        auto name = fbb_.CreateSharedString(key);
        switch (a.kind) {
            case Attribute::Kind::Int: return fb::CreateAttr(fbb_, name, fb::AttrKind::Int, a.i);
            case Attribute::Kind::Float: return fb::CreateAttr(fbb_, name, fb::AttrKind::Float, 0, a.f);
            case Attribute::Kind::String:
                return fb::CreateAttr(fbb_, name, fb::AttrKind::String, 0, 0.f, fbb_.CreateString(a.s));
            case Attribute::Kind::Ints:
                return fb::CreateAttr(fbb_, name, fb::AttrKind::Ints, 0, 0.f, 0, fbb_.CreateVector(a.ints));
            case Attribute::Kind::Floats:
                return fb::CreateAttr(fbb_, name, fb::AttrKind::Floats, 0, 0.f, 0, 0, fbb_.CreateVector(a.floats));
            case Attribute::Kind::Strings:
                return fb::CreateAttr(fbb_, name, fb::AttrKind::Strings, 0, 0.f, 0, 0, 0, fbb_.CreateVectorOfStrings(a.strings));
            case Attribute::Kind::Tensor:
                if (!a.t) fail(n.label() + ": attribute '" + key + "' holds no tensor");
                // Attribute tensors (Constant-like) keep full precision: they are not weights.
                return fb::CreateAttr(fbb_, name, fb::AttrKind::Tensor, 0, 0.f, 0, 0, 0, 0, tensor(*a.t, false));
            case Attribute::Kind::Graph: break;
        }
        fail_unsupported(n.label() + ": attribute '" + key + "' of kind " + attribute_kind_name(a.kind) +
                         " cannot be stored in an .ecnn file");
    }

    // Whether value `name`'s constant goes to float16 under --fp16-weights. By default only
    // weight matrices and filters (rank >= 2): biases, BatchNorm statistics and scales are a
    // small share of the bytes but set whole channels (with them in float16 too, ResNet-50's
    // error grew from 0.9% to 1.1% of its output range). `convert` measures instead.
    bool to_fp16(const std::string& name, const Tensor& t) const {
        if (options_.fp16_values) return options_.fp16_values->count(name) != 0;
        return t.rank() >= 2;
    }

    EcnnWriteOptions options_;
    flatbuffers::FlatBufferBuilder fbb_{1 << 16};
    std::vector<uint8_t> data_;
};

}  // namespace

bool fp16_storable(const Tensor& t) {
    if (t.dtype() != DType::F32 || t.numel() == 0) return false;
    const float* p = static_cast<const float*>(t.raw());
    float max_abs = 0, max_err = 0;
    for (int64_t i = 0; i < t.numel(); ++i) {
        if (!std::isfinite(p[i]) || std::fabs(p[i]) > 65504.f) return false;
        max_abs = std::max(max_abs, std::fabs(p[i]));
        max_err = std::max(max_err, std::fabs(half_to_float(float_to_half(p[i])) - p[i]));
    }
    return max_err <= max_abs * (1.f / 2048.f);
}

void check_ecnn_target(const std::string& target, const std::string& file) {
    if (target == "portable") return;
    Isa have = active_isa();
    auto refuse = [&](const std::string& why) {
        throw Error(ErrorKind::Unsupported, file + ": packed for target '" + target + "', but " + why +
                                                " (convert with --target portable, or for this CPU)");
    };
    if (target == "x86-avx512") {
        if (have != Isa::Avx512) refuse("this CPU runs at ISA level '" + isa_name(have) + "' (needs avx512)");
    } else if (target == "x86-avx2") {
        if (have != Isa::Avx2)
            refuse("this CPU runs at ISA level '" + isa_name(have) + "' (needs exactly avx2" +
                   (have == Isa::Avx512 ? std::string(": EDGECNN_ISA=avx2 runs it here") : std::string()) + ")");
    } else if (target == "arm64") {
        if (have != Isa::Neon && have != Isa::NeonDot) refuse("this CPU is not arm64 with NEON");
    } else {
        throw Error(ErrorKind::Invalid, file + ": unknown target '" + target + "'");
    }
}

EcnnModel load_ecnn_view(const void* data, size_t size, std::shared_ptr<void> owner, const std::string& name,
                         const EcnnLoadOptions& options) {
    if (reinterpret_cast<uintptr_t>(data) % 64 != 0) fail(name + ": .ecnn image must be 64-byte aligned");
    return Reader(static_cast<const uint8_t*>(data), size, std::move(owner), name, options).read();
}

EcnnModel load_ecnn_bytes(const void* data, size_t size, const std::string& name, const EcnnLoadOptions& options) {
    std::shared_ptr<void> copy = aligned_copy(data, size);
    return load_ecnn_view(copy.get(), size, copy, name, options);
}

EcnnModel load_ecnn_file(const std::string& path, const EcnnLoadOptions& options) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw Error(ErrorKind::Io, path + ": cannot open: " + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ErrorKind::Io, path + ": not a regular file");
    }
    size_t size = size_t(st.st_size);
    if (size == 0) {
        ::close(fd);
        throw Error(ErrorKind::Invalid, path + ": empty file, not an .ecnn model");
    }
    // Private and writable: pages stay shared with the page cache until written, and a
    // stray write can never reach the file.
    void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw Error(ErrorKind::Io, path + ": cannot map: " + std::strerror(errno));
    std::shared_ptr<void> owner(p, [size](void* q) { ::munmap(q, size); });
    EcnnModel m = load_ecnn_view(p, size, owner, path, options);
    return m;
}

bool is_ecnn_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    char magic[4] = {};
    return f.read(magic, 4) && std::memcmp(magic, kMagic, 4) == 0;
}

std::vector<uint8_t> serialize_ecnn(const Graph& g, const EcnnWriteOptions& options) { return Writer(options).write(g); }

void write_ecnn_file(const std::string& path, const Graph& g, const EcnnWriteOptions& options) {
    std::vector<uint8_t> bytes = serialize_ecnn(g, options);
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw Error(ErrorKind::Io, path + ": cannot write");
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
    if (!f) throw Error(ErrorKind::Io, path + ": write failed");
}

}  // namespace edgecnn
