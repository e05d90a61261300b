// GEMM packings to and from PackedWeights (.ecnn --target files): what ConvNhwc and the
// packed Gemm export after packing, and adopt at load instead of packing again.
#pragma once
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "kernels/gemm/gemm_f32.hpp"
#include "ops/op.hpp"

namespace edgecnn {

inline PackedWeights export_gemm_packing(const std::string& slot, const PackedGemmB& p) {
    std::shared_ptr<void> owner = std::const_pointer_cast<float>(p.storage());
    return {slot, Tensor::view(DType::F32, {int64_t(p.floats())}, const_cast<float*>(p.data()), owner),
            {p.k(), p.n(), int64_t(p.isa())}};
}

// The prepacked weights a node carries (copied at kernel creation: OpAttrs is temporary).
class PrepackedSet {
public:
    PrepackedSet() = default;
    explicit PrepackedSet(const OpAttrs& a) {
        const std::string prefix = kPrepackedAttr;
        for (const auto& [key, attr] : a.node().attrs) {
            if (key.rfind(prefix, 0) != 0) continue;
            std::string slot = key.substr(prefix.size());
            std::vector<int64_t> meta;
            if (const Tensor* t = a.prepacked(slot, &meta)) slots_[slot] = {*t, meta};
        }
    }
    bool empty() const { return slots_.empty(); }
    bool has(const std::string& slot) const { return slots_.count(slot) != 0; }

    // The packing stored for `slot` when there is one, checked against K x N; else pack().
    template <typename Pack>
    PackedGemmB gemm_or(const std::string& slot, int64_t K, int64_t N, Pack&& pack) const {
        auto it = slots_.find(slot);
        if (it == slots_.end()) return pack();
        const auto& [t, meta] = it->second;
        if (meta.size() != 3 || meta[0] != K || meta[1] != N || t.dtype() != DType::F32 || t.rank() != 1)
            fail("prepacked weights '" + slot + "' do not match this " + std::to_string(K) + "x" + std::to_string(N) +
                 " layer");
        auto holder = std::make_shared<Tensor>(t);  // keeps the file's memory alive
        std::shared_ptr<const float> data(holder, static_cast<const float*>(holder->raw()));
        return PackedGemmB::adopt(std::move(data), size_t(t.numel()), K, N, Isa(meta[2]));
    }

private:
    std::map<std::string, std::pair<Tensor, std::vector<int64_t>>> slots_;
};

}  // namespace edgecnn
