#include "ops/op.hpp"

namespace edgecnn {

void register_resize_ops(OpRegistry&) {}  // placeholder until this family lands

}  // namespace edgecnn
