"""Memory a kernel reaches through StackTensor addresses, kept safe while it is tuned.

A kernel that uses ``hl.stacktensor_like(example, ptrs[...])`` reads and writes
tensors it knows only by the addresses ``ptrs`` holds.  Two things the
autotuner does to ordinary arguments fail for that memory:

- copying the arguments into a benchmark process: the copied table holds this
  process's addresses, which mean nothing there (an illegal address);
- cloning the arguments before each run: the cloned table still points at the
  caller's tensors, so every config run (and every timing repetition) stores
  into them again; an in-place update (``stack[tile] += y``) would reach the
  caller applied hundreds of times.

So such a kernel is benchmarked in this process, and the bytes its stores can
change are copied once before tuning and put back before every checked run and
when tuning ends (:class:`StackMemory`).  What a checked run stored there is
compared with what the default config stored, as its outputs are.  The
generated module says which arguments are the pointer tables and examples
(``_deuteron_meta['stacks']``, codegen/host_wrapper.cc's op_meta); the memory
an address names is read as runtime/stack_tensors.py reads it.
"""

from __future__ import annotations

from typing import Any, Sequence

import torch

from ..runtime.stack_tensors import memory_at


class StackMemory:
    """A copy of every tensor the kernel's StackTensor stores may write, and its way back."""

    def __init__(self, regions: list[tuple[torch.Tensor, torch.Tensor]], tensors: list[torch.Tensor]) -> None:
        self.regions = regions  # (the memory's bytes, a copy of them)
        self.tensors = tensors  # the stacked tensors themselves (views of that memory)

    @classmethod
    def of(cls, stacks: Sequence[tuple[int, int, bool]], args: Sequence[Any]) -> StackMemory | str:
        """The saved memory for ``_deuteron_meta['stacks']`` over ``args``, or why it cannot be saved."""
        regions: list[tuple[torch.Tensor, torch.Tensor]] = []
        tensors: list[torch.Tensor] = []
        seen: set[tuple[int, int]] = set()
        for table, example, written in stacks:
            if not written:
                continue
            if table < 0 or example < 0:
                return ("it stores through StackTensor pointers whose table or example tensor is not an argument "
                        "of the kernel itself, so the tuner cannot tell which memory the stores change")
            ptrs, like = args[table], args[example]
            if not (isinstance(ptrs, torch.Tensor) and isinstance(like, torch.Tensor)):
                return "its StackTensor pointer table or example is not a tensor"
            if like.numel() == 0:
                continue
            for address in ptrs.reshape(-1).tolist():
                # 0 is null: a kernel can only leave it masked out.
                if address == 0 or (address, example) in seen:
                    continue
                seen.add((address, example))
                raw = memory_at(address, like)
                try:
                    regions.append((raw, raw.clone()))
                except torch.OutOfMemoryError:
                    return (f"the device has no memory left for a copy of the tensors it stores to through "
                            f"StackTensor pointers ({ptrs.numel()} of {raw.numel()} bytes each at most)")
                tensors.append(raw.view(like.dtype).as_strided(like.shape, like.stride()))
        return cls(regions, tensors)

    def restore(self) -> None:
        """Put the saved bytes back (every copy was taken at once, so overlapping tensors agree)."""
        for view, saved in self.regions:
            view.copy_(saved)

    def observe(self) -> list[torch.Tensor]:
        """Copies of the stacked tensors now: what a config stored, for the accuracy check."""
        return [t.clone() for t in self.tensors]

    def __len__(self) -> int:
        return len(self.regions)
