#include "ops/op.hpp"

namespace edgecnn {

void register_pool_ops(OpRegistry&) {}  // placeholder until this family lands

}  // namespace edgecnn
