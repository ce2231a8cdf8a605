// The entries of the per-loop config keys, kept as Helion keeps them
// (helion/autotuner/block_id_sequence.py, BlockIdSequence): a list of
// entries, each holding the block keys of the loop it was added for, read by
// block key.  analysis/config_space.cc adds one per loop in source order
// (Helion's _add_config_choices); what Helion then drops (a flatten entry
// whose dims some value holds only partly, duplicates) is dropped here too,
// so that a Config written for Helion has the entries deuteron expects.
#include <algorithm>

#include "deuteron/config.h"

namespace deuteron {

void LoopEntryList::disable(int64_t key) {
  auto holds = [&](const std::vector<int64_t>& e) { return std::find(e.begin(), e.end(), key) != e.end(); };
  entries_.erase(std::remove_if(entries_.begin(), entries_.end(), holds), entries_.end());
}

int LoopEntryList::lookup(int64_t key) const {
  // The last entry that holds the key (Helion's block-id-to-index map is
  // written entry by entry, later entries overwriting).
  for (size_t i = entries_.size(); i-- > 0;)
    if (std::find(entries_[i].begin(), entries_[i].end(), key) != entries_[i].end()) return static_cast<int>(i);
  return -1;
}

void LoopEntryList::remove_duplicates() {
  for (;;) {
    std::vector<std::vector<int64_t>> kept;
    bool restart = false;
    for (size_t i = 0; i < entries_.size() && !restart; ++i) {
      const int other = lookup(entries_[i].front());
      if (other == static_cast<int>(i)) {
        kept.push_back(entries_[i]);
      } else if (entries_[static_cast<size_t>(other)].size() != entries_[i].size()) {
        // Loops of different ranks on one block size: neither order can
        // apply to both, so neither has an entry.
        disable(entries_[i].front());
        restart = true;
      }
      // Otherwise a later loop on the same block sizes reads the later entry.
    }
    if (!restart) {
      entries_ = std::move(kept);
      return;
    }
  }
}

const InnerLoopInfo* ConfigSpec::range_entry_loop(int entry) const {
  for (const auto& l : inner_loops)
    if (l.range_entry == entry) return &l;
  return nullptr;
}

int ConfigSpec::range_entry_kernel(int entry) const {
  if (const InnerLoopInfo* l = range_entry_loop(entry)) return l->kernel;
  for (size_t k = 0; k < kernels.size(); ++k)
    if (kernels[k].grid_range_entry == entry) return static_cast<int>(k);
  return 0;
}

void ConfigSpec::number_loop_entries() {
  multi_dim_loops.clear();
  flatten_allowed.resize(loop_order_sizes.size(), false);
  loop_order_kernels.resize(loop_order_sizes.size(), 0);
  for (size_t i = 0; i < loop_order_sizes.size(); ++i) {
    MultiDimLoop m;
    m.kernel = loop_order_kernels[i];
    m.grid = true;
    m.rank = loop_order_sizes[i];
    m.loop_order_entry = m.flatten_entry = static_cast<int>(i);
    m.flattenable = flatten_allowed[i];
    multi_dim_loops.push_back(m);
  }
  if (kernels.empty()) kernels.emplace_back();
  for (auto& k : kernels) k.l2_grouping_entry = -1;
  for (size_t i = 0; i < l2_grouping_kernels.size(); ++i)
    if (static_cast<size_t>(l2_grouping_kernels[i]) < kernels.size())
      kernels[static_cast<size_t>(l2_grouping_kernels[i])].l2_grouping_entry = static_cast<int>(i);
  int next = 0;
  for (size_t k = 0; k < kernels.size(); ++k) {
    kernels[k].grid_range_entry = next++;
    for (auto& l : inner_loops)
      if (l.kernel == static_cast<int>(k)) l.range_entry = next++;
  }
  range_entries = next;
  static_range_entries = 0;
  for (auto& l : inner_loops) l.static_range_entry = -1;
}

}  // namespace deuteron
