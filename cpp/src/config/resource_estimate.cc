// What a kernel with dots needs of the GPU under one config: the estimate the
// default config shrinks to fit and the autotuner's constraint model checks.
//
// Shared memory.  Triton stages the loads of a loop that runs a dot through
// shared memory, one buffer per pipeline stage: the dots' operands and every
// other load of that loop (its software pipeliner does not ask who reads a
// load).  Operands loaded before the loops take one buffer each; operands
// computed in registers take none (Triton converts them in registers or
// through a scratch buffer far smaller than the pipeline's).  Loops run one
// after another, so the largest loop counts.  Checked against what Triton
// 3.6 asked for on the H200 with num_stages=3:
//   matmul_layernorm (128x64 bf16 x tiles, 64x512 y tiles): 3 x 80 KB = 245760, as reported;
//   gdn_fwd_h (w and k 256x64, u 256x128 bf16, g 256 fp32): 3 x 129 KB = 396288 (reported 395272);
//   squeeze_and_excitation_net (128x1024 and 1024x128 fp16): 3 x 512 KB = 1572864 (reported 1605632).
//
// Rolled whole dims.  An axis of a whole dim that a reduction_loops entry
// rolls is a chunk of that entry's lanes, and an operand with such an axis
// is loaded in the rolled loop (x_tile @ w[:, chunk]: w's chunk is staged
// like a loop's load; x_tile, the whole contraction, is loaded once).
//
// Registers.  A dot's fp32 accumulator lives in registers; the results of
// the dots of one loop are live together (attention's scores and output),
// and more than kMaxAccElementsPerThread per thread spill.
#include <map>

#include "deuteron/config.h"

namespace deuteron {

DotResources estimate_dot_resources(const KernelSummary& k, const std::function<int64_t(int)>& block, double stages,
                                    const std::function<int64_t(int)>& chunk) {
  DotResources r;
  if (k.dots.empty()) return r;
  // The rolled loop an axis is chunked by (-1: none).
  auto rolled = [&](const AxisSize& a) {
    return a.reduction_loop_index >= 0 && chunk && chunk(a.reduction_loop_index) > 0 &&
                   chunk(a.reduction_loop_index) < a.extent
               ? a.reduction_loop_index
               : -1;
  };
  auto elements = [&](const std::vector<AxisSize>& axes) {
    double n = 1;
    for (const auto& a : axes)
      n *= a.block_size_index >= 0 ? static_cast<double>(block(a.block_size_index))
           : rolled(a) >= 0        ? static_cast<double>(chunk(a.reduction_loop_index))
                                   : static_cast<double>(a.extent);
    return n;
  };
  // The loop the values of `axes` live in: a rolled loop outside the dot's own.
  auto rolled_loop = [&](const std::vector<AxisSize>& axes, int loop) {
    if (loop >= 0) return loop;
    for (const auto& a : axes)
      if (rolled(a) >= 0) return rolled_loop_key(rolled(a));
    return loop;
  };
  using Source = DotSummary::Operand::Source;
  std::map<int, double> acc;                       // loop -> accumulator elements
  std::map<int, std::map<int, double>> piped;      // loop -> load -> bytes of one stage
  std::map<int, double> once;                      // load -> bytes
  int unknown = -2;  // operands of a summary that does not name their load: one buffer each
  for (const auto& d : k.dots) {
    acc[rolled_loop(d.result, d.loop)] += elements(d.result);
    for (const DotSummary::Operand* o : {&d.a, &d.b}) {
      const double bytes = elements(o->axes) * o->element_bytes;
      const int load = o->load >= 0 ? o->load : unknown--;
      const int loop = rolled_loop(o->axes, d.loop);
      if (o->source == Source::LoadedInLoop || (o->source == Source::LoadedOnce && loop != d.loop))
        piped[loop][load] = bytes;
      else if (o->source == Source::LoadedOnce) once[load] = bytes;
    }
  }
  for (const auto& l : k.pipelined_loads) {
    double bytes = elements(l.axes) * l.element_bytes;
    double& slot = piped[l.loop][l.load];
    slot = std::max(slot, bytes);
  }
  for (const auto& [loop, n] : acc)
    if (n > r.acc_elements) {
      r.acc_elements = n;
      r.acc_loop = loop;
    }
  for (const auto& [loop, loads] : piped) {
    double bytes = 0;
    for (const auto& [load, b] : loads) bytes += b;
    if (stages * bytes > r.shared_bytes) {
      r.shared_bytes = stages * bytes;
      r.shared_loop = loop;
    }
  }
  for (const auto& [load, bytes] : once) r.shared_bytes += bytes;
  return r;
}

}  // namespace deuteron
