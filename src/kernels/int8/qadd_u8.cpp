// Int8 Add driver: ISA dispatch, the portable instantiation, chunks over the thread pool.
#include "kernels/int8/qadd_u8.hpp"

#include <algorithm>

#include "base/cpu_features.hpp"
#include "base/thread_pool.hpp"
#include "kernels/int8/qadd_u8_kernel.inl"

namespace edgecnn {

using namespace qadd_detail;

std::string qadd_u8_kernel_name() {
    switch (active_isa()) {
#if defined(__x86_64__) || defined(_M_X64)
        case Isa::Avx512: return "qadd_u8_avx512";
        case Isa::Avx2: return "qadd_u8_avx2";
#endif
        default: return "qadd_u8_portable";
    }
}

void qadd_u8(int64_t count, const uint8_t* a, const uint8_t* b, const QAddParams& p, uint8_t* y, ThreadPool* pool) {
    QAddFn fn = qadd_loop;
#if defined(__x86_64__) || defined(_M_X64)
    if (active_isa() == Isa::Avx512) fn = qadd_avx512;
    else if (active_isa() == Isa::Avx2) fn = qadd_avx2;
#endif
    const int64_t chunk = 32768, tasks = (count + chunk - 1) / chunk;
    auto task = [&](int64_t t) {
        const int64_t e0 = t * chunk;
        fn(std::min(chunk, count - e0), a + e0, b + e0, p, y + e0);
    };
    if (pool && tasks > 1) pool->parallel_for(tasks, task);
    else
        for (int64_t t = 0; t < tasks; ++t) task(t);
}

}  // namespace edgecnn
