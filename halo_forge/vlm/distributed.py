"""This process's place in an `accelerate launch` (or a single process), and the few collective
steps a RAFT cycle needs: share out batches, gather their results in order, let one process write.

Work is shared by batch index: batch b of a list goes to rank b % world_size, and its results come
back to position b on every rank, so every rank ends a step with the same list, in the order one
process would have made it. With a seed per batch index (see `rollout.generate`), a batch samples
the same completions whichever rank runs it: the keep-set of N processes is the keep-set of one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from ..errors import HaloForgeError
from ..progress import track

T = TypeVar("T")
R = TypeVar("R")


class Ranks:
    """The processes of this run. Without a launcher: one process, and every step is local."""

    def __init__(self):
        from accelerate import PartialState

        # Joins the process group when launched by accelerate / torchrun; on a machine without CUDA it
        # must be told so, or each launched process would think it is alone (gloo is used then).
        self.state = PartialState(cpu=not torch.cuda.is_available())
        self.rank, self.world_size = self.state.process_index, self.state.num_processes
        self.is_main = self.state.is_main_process

    @property
    def sharded(self) -> bool:
        """Whether the launch shards the weights (FSDP, DeepSpeed, Megatron) instead of copying them (DDP)."""
        return self.state.distributed_type.name in ("FSDP", "DEEPSPEED", "MEGATRON_LM")

    @property
    def device(self) -> torch.device:
        """This rank's device: its LOCAL_RANK's GPU when launched, else the first GPU or the CPU."""
        return self.state.device

    def map_batches(self, items: Sequence[T], size: int, fn: Callable[[Sequence[T], int], list[R]],
                    description: str = "", show_progress: bool = True) -> list[R]:
        """fn(batch, batch_index) -> one result per item, run on this rank's share of the batches;
        every rank returns all results in item order."""
        batches = [(b, items[start:start + size]) for b, start in enumerate(range(0, len(items), size))]
        mine = batches[self.rank::self.world_size]
        progress = track(mine, description, disable=not (show_progress and self.is_main))
        local = [(b, fn(batch, b)) for b, batch in progress]
        if self.world_size == 1:
            return [r for _, results in local for r in results]
        from accelerate.utils import gather_object

        return [r for _, results in sorted(gather_object(local), key=lambda pair: pair[0]) for r in results]

    def total(self, *values: float) -> list[float]:
        """Each value summed over the ranks."""
        if self.world_size == 1:
            return list(values)
        from accelerate.utils import gather_object

        gathered = gather_object([values])
        return [sum(v[i] for v in gathered) for i in range(len(values))]

    def on_main(self, fn: Callable[[], R]) -> R:
        """Runs `fn` on the main process only and gives every rank its result; a HaloForgeError
        there is raised on every rank (so none waits forever for a main process that stopped)."""
        result, error = None, None
        if self.is_main:
            try:
                result = fn()
            except HaloForgeError as exc:
                error = str(exc)
        if self.world_size > 1:
            from accelerate.utils import broadcast_object_list

            result, error = broadcast_object_list([result, error])
        if error is not None:
            raise HaloForgeError(error)
        return result

    def agree(self, value: Any, what: str) -> None:
        """Refuses to go on when the ranks computed different `what` (they must be identical, or
        the processes would train on different data)."""
        if self.world_size == 1:
            return
        from accelerate.utils import gather_object

        digests = gather_object([hashlib.sha256(repr(value).encode()).hexdigest()])
        if len(set(digests)) > 1:
            raise HaloForgeError(f"the {self.world_size} processes computed different {what}; the run is not "
                                 f"deterministic across ranks, so it stops rather than train them apart.")

    def wait(self) -> None:
        self.state.wait_for_everyone()
