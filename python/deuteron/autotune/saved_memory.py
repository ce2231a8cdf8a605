"""Memory a kernel's runs change, kept so that tuning leaves it as it was.

The tuner runs every config many times: once checked against the reference
output, then again and again while it is timed.  A kernel that writes an
argument in place (``x[tile] += 1``, an ``hl.atomic_add`` into an ``out`` the
caller zeroed, a host ``x.add_(1)``) changes that argument on each run, so
without care

- a checked run would start from what the timing runs before it left: every
  config but the first would fail the accuracy check, and tuning would choose
  among none;
- tuning in the calling process (arguments that cannot be sent to a benchmark
  process, no GPU memory there for a copy, StackTensors below) would leave the
  caller's tensors updated once per run: a wrong answer, silently.

A kernel that uses ``hl.stacktensor_like(example, ptrs[...])`` also reads and
writes tensors it knows only by the addresses ``ptrs`` holds.  Copies of the
arguments do not protect those (the copied table still points at the caller's
tensors), and another process cannot reach them at all (the addresses are
this process's): such a kernel is benchmarked in the calling process.

So the benchmark side (benchmark.py's BenchState, in a worker or in the calling
process) copies once, before the reference run, every argument the kernel
writes in place and every tensor its stores through a stack can reach, and
puts them back before each checked run; the driver puts them back once more
when tuning in the calling process ends.  What a checked run stored through a
stack is compared with what the default config stored, as its outputs are.
The generated module says which arguments are written in place
(``_deuteron_meta['mutates']``) and which are the pointer tables and examples
(``_deuteron_meta['stacks']``, codegen/host_wrapper.cc's op_meta); the memory
an address names is read as runtime/stack_tensors.py reads it.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..runtime.stack_tensors import memory_at, view


def stack_problem(stacks: Sequence[tuple[int, int, bool]]) -> str | None:
    """Why the tensors a kernel's stack stores reach cannot be saved, or None."""
    for table, example, written in stacks:
        if written and (table < 0 or example < 0):
            return ("it stores through StackTensor pointers whose table or example tensor is not an argument "
                    "of the kernel itself, so the tuner cannot tell which memory the stores change")
    return None


class SavedMemory:
    """A copy of what the kernel's runs may change, and the way back."""

    def __init__(self) -> None:
        self.regions: list[tuple[torch.Tensor, torch.Tensor]] = []  # (the memory, a copy of it)
        self.stacked: list[torch.Tensor] = []  # tensors reached through StackTensor addresses

    @classmethod
    def of(cls, written: Sequence[torch.Tensor], args: Sequence[Any],
           stacks: Sequence[tuple[int, int, bool]]) -> SavedMemory:
        """Copies of the tensors ``written`` (the leaves of the arguments written in place) and
        of the tensors the written entries of ``stacks`` (``_deuteron_meta['stacks']`` over
        ``args``, checked by :func:`stack_problem`) reach.  Raises torch.OutOfMemoryError when
        the device has no room for them."""
        saved = cls()
        for t in written:
            saved.regions.append((t, t.clone()))
        seen: set[tuple[int, int]] = set()
        for table, example, stored_to in stacks:
            if not stored_to:
                continue
            ptrs, like = args[table], args[example]
            if like.numel() == 0:
                continue
            for address in ptrs.reshape(-1).tolist():
                # 0 is null: a kernel can only leave it masked out.
                if address == 0 or (address, example) in seen:
                    continue
                seen.add((address, example))
                raw = memory_at(address, like)
                saved.regions.append((raw, raw.clone()))
                saved.stacked.append(view(address, like))
        return saved

    def restore(self) -> None:
        """Put the copies back (all taken at once, so memory two of them share gets one value)."""
        for memory, copy in self.regions:
            memory.copy_(copy)

    def observe_stacks(self) -> list[torch.Tensor] | None:
        """Copies of the stacked tensors now (what a run stored there), or None without any."""
        return [t.clone() for t in self.stacked] if self.stacked else None

    def __len__(self) -> int:
        return len(self.regions)
