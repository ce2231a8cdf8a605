// The shared steps of loop_programs.h.
#include "loop_programs.h"

#include <iterator>

namespace deuteron::passes {

using ir::OpKind;

bool cheap_to_repeat(const ir::Op& op) {
  switch (op.kind) {
    case OpKind::Constant: case OpKind::ScalarParam: case OpKind::SymValue: case OpKind::TileIndex:
    case OpKind::TileBegin: case OpKind::TileEnd: case OpKind::TileBlockSize: case OpKind::TileId:
    case OpKind::TileCount: case OpKind::TileMask: case OpKind::Full: case OpKind::Arange: case OpKind::Load:
    case OpKind::Unary: case OpKind::Binary: case OpKind::Where: case OpKind::Cast: case OpKind::ExpandDims:
    case OpKind::Squeeze: case OpKind::BroadcastTo: case OpKind::Permute: case OpKind::Reshape:
    case OpKind::BlockLanes: return true;
    default: return false;
  }
}

bool rest_cheap_to_repeat(const ir::DeviceKernel& k, const ir::Op& loop) {
  for (const auto& op : k.body.ops)
    if (op.get() != &loop && !cheap_to_repeat(*op)) return false;
  return true;
}

void loop_to_grid_dim(ir::DeviceKernel& k, ir::Op& loop) {
  auto at = k.body.ops.begin();
  while (at != k.body.ops.end() && at->get() != &loop) ++at;
  DEUTERON_CHECK(at != k.body.ops.end(), "loop_to_grid_dim: the loop is not at the kernel body's top level");
  const int dim = loop.attrs.dim;
  std::vector<std::unique_ptr<ir::Op>> body;
  for (auto& op : loop.regions.front()->ops) {
    if (op->kind == OpKind::Yield) continue;
    op->parent = &k.body;
    body.push_back(std::move(op));
  }
  at = k.body.ops.erase(at);
  k.body.ops.insert(at, std::make_move_iterator(body.begin()), std::make_move_iterator(body.end()));
  k.dim(dim).loop_id = -1;
  k.grid_dims.push_back(dim);
}

}  // namespace deuteron::passes
