#include "kernels/reference/resize_ref.hpp"

#include <algorithm>
#include <cstring>

namespace edgecnn::ref {

bool ResizeAxisPlan::is_identity() const {
    if (in_size != out_size) return false;
    for (int64_t j = 0; j < out_size; ++j) {
        if (!outside.empty() && outside[size_t(j)]) return false;
        // Taps on j must sum to exactly 1 and every other tap must weigh exactly 0
        // (clamping at the edges may repeat an index).
        float on = 0.f;
        for (int64_t k = 0; k < taps; ++k) {
            const size_t t = size_t(j * taps + k);
            if (index[t] == j) on += weight[t];
            else if (weight[t] != 0.f) return false;
        }
        if (on != 1.f) return false;
    }
    return true;
}

namespace {

std::vector<int64_t> strides_of_shape(const Shape& s) {
    std::vector<int64_t> st(s.size(), 1);
    for (size_t i = s.size(); i-- > 1;) st[i - 1] = st[i] * s[i];
    return st;
}

template <typename T>
void nearest_rows(const uint8_t* src, uint8_t* dst, const Shape& in_shape, const std::vector<ResizeAxisPlan>& plans,
                  const uint8_t* fill) {
    const size_t r = in_shape.size();
    const std::vector<int64_t> st = strides_of_shape(in_shape);
    T fill_v;
    std::memcpy(&fill_v, fill, sizeof(T));
    const ResizeAxisPlan& last = plans[r - 1];
    const int64_t row_len = last.out_size;
    int64_t rows = 1;
    for (size_t d = 0; d + 1 < r; ++d) rows *= plans[d].out_size;
    std::vector<int64_t> idx(r, 0);
    const T* s = reinterpret_cast<const T*>(src);
    T* o = reinterpret_cast<T*>(dst);
    for (int64_t row = 0; row < rows; ++row, o += row_len) {
        int64_t base = 0;
        bool outside = false;
        for (size_t d = 0; d + 1 < r; ++d) {
            const ResizeAxisPlan& p = plans[d];
            if (!p.outside.empty() && p.outside[size_t(idx[d])]) outside = true;
            base += p.index[size_t(idx[d])] * st[d];
        }
        if (outside) {
            std::fill_n(o, row_len, fill_v);
        } else {
            const T* srow = s + base;
            const int64_t* ix = last.index.data();
            if (last.outside.empty()) {
                for (int64_t j = 0; j < row_len; ++j) o[j] = srow[ix[j]];
            } else {
                for (int64_t j = 0; j < row_len; ++j) o[j] = last.outside[size_t(j)] ? fill_v : srow[ix[j]];
            }
        }
        for (size_t d = r - 1; d-- > 0;) {
            if (++idx[d] < plans[d].out_size) break;
            idx[d] = 0;
        }
    }
}

// One filter pass along an axis: the tensor is [outer, in_n, inner] -> [outer, out_n, inner].
void filter_pass(const float* src, float* dst, int64_t outer, int64_t inner, const ResizeAxisPlan& p, float extrap) {
    const int64_t in_n = p.in_size, out_n = p.out_size, taps = p.taps;
    for (int64_t o = 0; o < outer; ++o) {
        const float* s = src + o * in_n * inner;
        float* d = dst + o * out_n * inner;
        for (int64_t j = 0; j < out_n; ++j) {
            float* dr = d + j * inner;
            if (!p.outside.empty() && p.outside[size_t(j)]) {
                std::fill_n(dr, inner, extrap);
                continue;
            }
            const int64_t* ix = p.index.data() + j * taps;
            const float* w = p.weight.data() + j * taps;
            if (inner == 1) {
                float acc = 0.f;
                for (int64_t k = 0; k < taps; ++k) acc += w[k] * s[ix[k]];
                dr[0] = acc;
                continue;
            }
            std::fill_n(dr, inner, 0.f);
            for (int64_t k = 0; k < taps; ++k) {
                if (w[k] == 0.f) continue;
                const float wk = w[k];
                const float* sr = s + ix[k] * inner;
                for (int64_t i = 0; i < inner; ++i) dr[i] += wk * sr[i];
            }
        }
    }
}

}  // namespace

void resize_nearest(const void* src, void* dst, const Shape& in_shape, const std::vector<ResizeAxisPlan>& plans,
                    size_t es, const void* fill) {
    int64_t n = 1;
    for (const auto& p : plans) n *= p.out_size;
    if (n == 0) return;
    const auto* s = static_cast<const uint8_t*>(src);
    auto* d = static_cast<uint8_t*>(dst);
    const auto* f = static_cast<const uint8_t*>(fill);
    if (in_shape.empty()) {
        std::memcpy(d, s, es);
        return;
    }
    switch (es) {
        case 1: nearest_rows<uint8_t>(s, d, in_shape, plans, f); break;
        case 2: nearest_rows<uint16_t>(s, d, in_shape, plans, f); break;
        case 4: nearest_rows<uint32_t>(s, d, in_shape, plans, f); break;
        case 8: nearest_rows<uint64_t>(s, d, in_shape, plans, f); break;
        default: break;  // no other element sizes exist
    }
}

void resize_filter_f32(const float* src, float* dst, const Shape& in_shape, const std::vector<ResizeAxisPlan>& plans,
                       float extrapolation_value) {
    const size_t r = in_shape.size();
    int64_t out_n = 1;
    for (const auto& p : plans) out_n *= p.out_size;
    if (out_n == 0) return;
    std::vector<size_t> active;
    for (size_t d = r; d-- > 0;)
        if (!plans[d].is_identity()) active.push_back(d);
    if (active.empty()) {
        std::memcpy(dst, src, size_t(out_n) * sizeof(float));
        return;
    }
    Shape cur = in_shape;
    std::vector<float> a, b;
    const float* in = src;
    for (size_t i = 0; i < active.size(); ++i) {
        const size_t ax = active[i];
        int64_t outer = 1, inner = 1;
        for (size_t d = 0; d < ax; ++d) outer *= cur[d];
        for (size_t d = ax + 1; d < r; ++d) inner *= cur[d];
        cur[ax] = plans[ax].out_size;
        float* out;
        if (i + 1 == active.size()) {
            out = dst;
        } else {
            std::vector<float>& buf = (in == a.data() && !a.empty()) ? b : a;
            buf.assign(size_t(outer * cur[ax] * inner), 0.f);
            out = buf.data();
        }
        filter_pass(in, out, outer, inner, plans[ax], extrapolation_value);
        in = out;
    }
}

}  // namespace edgecnn::ref
