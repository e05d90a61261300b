#include "ops/op.hpp"

namespace edgecnn {

void register_tensor_ops(OpRegistry&) {}  // placeholder until this family lands

}  // namespace edgecnn
