// Which index dtype a kernel needs.  Offsets are computed in the index dtype
// for every tensor a device loop loads or stores, outputs allocated by host
// code included; an int32 offset that wraps reads or writes out of bounds.
// Sizes that are symbols (dynamic shapes, int arguments) are decided on
// their hints, and the int32 code checks them on entry (Program::index_guards).
#include "index_width.h"

#include <algorithm>
#include <cstdint>

namespace deuteron::sema {

namespace {
constexpr int64_t kInt32Max = (int64_t{1} << 31) - 1;

bool is_entry_symbol(const Program& p, const std::string& name) {
  for (const auto& s : p.symbols)
    if (s.name == name) return s.at_entry;
  return false;
}
}  // namespace

SymInt padded_max_offset(const std::vector<SymInt>& sizes, const std::vector<SymInt>& strides) {
  // A dim of size s is tiled by blocks of at most next_power_of_2(s) <= 2s - 1
  // elements, so its index (masked lanes included) stays below 2s - 1.  A dim
  // of size 0 contributes nothing (the tensor is empty, nothing is accessed).
  SymInt total = 0;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d].is_constant() && sizes[d].constant() == 0) return 0;
    total = total + sym_max(sizes[d] * 2 - 2, 0) * strides[d];
  }
  return total;
}

IndexWidth decide_index_width(const Program& program) {
  IndexWidth out;
  for (const auto& k : program.kernels) {
    for (const auto& t : k->tensors) {
      SymInt offset;
      try {
        offset = padded_max_offset(t.sizes, t.strides);
      } catch (const IntOverflowError&) {
        out.needs_int64 = true;  // the constant offset itself leaves int64
        continue;
      }
      if (auto c = offset.as_constant()) {
        if (*c > kInt32Max) out.needs_int64 = true;
        continue;
      }
      // The example values seen at bind time (nullopt: unknown, or beyond int64).
      auto hint = offset.hint();
      if (hint && *hint > kInt32Max) out.needs_int64 = true;
      // Arguments' own sizes are in the runtime's specialization key (whether
      // a tensor needs int64 is part of it); what host code allocates is
      // checked by the int32 code on entry, which then calls the int64 one.
      // Offsets that depend on values known only after a host statement
      // cannot be checked before the first launch: int64 then.
      bool entry_only = true;
      for (const auto& s : offset.symbols()) entry_only &= is_entry_symbol(program, s);
      if (!entry_only && t.dense) {
        // Strides read after an allocation (`torch.empty_like(x)` of a dynamic
        // x): a dense layout of these sizes puts its padded offset below
        // 2 * numel - 1 whatever the stride order, and numel is known at entry.
        SymInt bound;
        try {
          SymInt numel = 1;
          for (const auto& s : t.sizes) numel = numel * s;
          bound = sym_max(numel * 2 - 2, 0);
        } catch (const IntOverflowError&) {
          out.needs_int64 = true;
          continue;
        }
        bool sizes_at_entry = true;
        for (const auto& s : bound.symbols()) sizes_at_entry &= is_entry_symbol(program, s);
        if (sizes_at_entry) {
          offset = bound;
          hint = offset.hint();
          if (hint && *hint > kInt32Max) out.needs_int64 = true;
          entry_only = true;
        }
      }
      if (!entry_only) {
        out.needs_int64 = true;
      } else if (t.arg_index < 0 || !hint) {
        out.guards.push_back(offset);
      }
    }
  }
  return out;
}

}  // namespace deuteron::sema
