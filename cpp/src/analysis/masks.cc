// Which dims need a mask: a block that can run past the end of its dim has
// lanes that must not load, store or count.  Masks are implied by dims and
// blocks, never written in the IR; this decides them once for the emitter.
#include <algorithm>

#include "deuteron/analysis.h"

namespace deuteron::analysis {

namespace {

std::string multiple_text(const SymInt& extent, int64_t block, bool is) {
  return "its extent " + extent.str() + (is ? " is" : " is not provably") + " a multiple of its block " +
         std::to_string(block);
}

}  // namespace

void plan_masks(const ir::DeviceKernel& k, const KernelConfig& config, KernelPlan& plan) {
  auto block = [&](int d) { return config.block_of(k.dim(d)); };
  plan.whole_block_dims = whole_block_dims(k, block);
  // A flattened grid's blocks run past the end only at the end of all its
  // elements together.
  DimMask flat_mask;
  if (plan.flat) {
    SymInt total = 1;
    int64_t elements = 1;
    for (int d : k.grid_dims) {
      total = total * k.dim(d).extent();
      elements *= block(d);
    }
    flat_mask.needed = !total.provably_multiple_of(elements);
    flat_mask.why = "the flattened grid's " + total.str() + " elements are" +
                    (flat_mask.needed ? " not provably" : "") + " a multiple of its block of " +
                    std::to_string(elements);
  }
  // Dims in id order: a sub-tile's parent comes first.
  for (const ir::Dim& dim : k.dims) {
    DimMask m;
    if (dim.merged()) {
      // A merged dim's lane is dead where any factor's is (its padding lanes
      // included), so it needs a mask exactly when a factor does.
      std::string which;
      for (int f : dim.factors)
        if (plan.masks.at(f).needed) {
          m.needed = true;
          which += (which.empty() ? "d" : ", d") + std::to_string(f);
        }
      m.why = m.needed ? "it merges " + which + ", which need" + (which.find(',') == std::string::npos ? "s" : "") + " one"
                       : "it merges dims that need none";
    } else if (dim.subtile_of >= 0) {
      // A sub-tile runs past the end exactly where its parent's block does.
      m.needed = plan.masks.at(dim.subtile_of).needed;
      m.why = "a sub-tile of d" + std::to_string(dim.subtile_of) + (m.needed ? ", which needs one" : ", which needs none");
    } else if (dim.dynamic_bounds) {
      m.needed = !plan.whole_block_dims.count(dim.id);
      m.why = std::string("its loop's device-computed bounds are") + (m.needed ? " not provably" : "") +
              " multiples of its block " + std::to_string(block(dim.id));
    } else if (plan.flat && std::find(k.grid_dims.begin(), k.grid_dims.end(), dim.id) != k.grid_dims.end()) {
      m = flat_mask;
    } else if (auto f = plan.flat_nest_of_dim.find(dim.id); f != plan.flat_nest_of_dim.end()) {
      // A flattened inner loop's blocks run past the end only at the end of
      // all its elements together.
      const FlatNest& nest = plan.flat_nests.at(static_cast<size_t>(f->second));
      m.needed = !nest.total.provably_multiple_of(nest.block);
      m.why = "the flattened loop's " + nest.total.str() + " elements are" + (m.needed ? " not provably" : "") +
              " a multiple of its block of " + std::to_string(nest.block);
    } else {
      switch (dim.kind) {
        case ir::DimKind::Grid:
          m.why = "a grid dim takes one index at a time";
          break;
        case ir::DimKind::Full: {
          auto e = config.extent_of(dim);
          m.needed = !e || next_power_of_2(*e) != *e;
          m.why = !e ? "its extent " + dim.extent().str() + " is not known when compiling"
                     : "its extent " + std::to_string(*e) + (m.needed ? " is not" : " is") + " a power of two";
          break;
        }
        case ir::DimKind::Tile: {
          bool whole = dim.extent().provably_multiple_of(block(dim.id));
          m.needed = !whole;
          m.why = multiple_text(dim.extent(), block(dim.id), whole);
          break;
        }
      }
    }
    plan.masks[dim.id] = m;
  }
}

bool KernelPlan::needs_mask(int d) const {
  auto it = masks.find(d);
  DEUTERON_CHECK(it != masks.end(), "no mask decision for d" + std::to_string(d));
  return it->second.needed;
}

}  // namespace deuteron::analysis
