"""This process's place in an `accelerate launch` (or a single process), and the few collective
steps a RAFT cycle needs: share out batches, gather their results in order, let one process write.

Work is shared by batch index: batch b of a list goes to rank b % world_size, and its results come
back to position b on every rank, so every rank ends a step with the same list, in the order one
process would have made it. With a seed per batch index (see `rollout.generate`), a batch samples
the same completions whichever rank runs it: the keep-set of N processes is the keep-set of one.

Under FSDP each process holds a shard of the weights and every forward pass gathers the rest from
the others, so steps that run the model go in lockstep: each rank runs as many batches (a rank
one short repeats a batch and drops its results) and generate keeps the ranks in step to the
longest completion (`synced_gpus`).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import torch

from ..errors import HaloForgeError
from ..progress import track

T = TypeVar("T")
R = TypeVar("R")
PACING = -1  # the batch index of a run that only keeps pace with the other ranks (its results are dropped)


class Ranks:
    """The processes of this run. Without a launcher: one process, and every step is local."""

    def __init__(self):
        from accelerate import PartialState

        # Joins the process group when launched by accelerate / torchrun; on a machine without CUDA it
        # must be told so, or each launched process would think it is alone (gloo is used then).
        self.state = PartialState(cpu=not torch.cuda.is_available())
        self.rank, self.world_size = self.state.process_index, self.state.num_processes
        self.is_main = self.state.is_main_process
        self.fsdp = False  # set once `shard` has sharded the model: its forward passes are then collective

    @property
    def fsdp_requested(self) -> bool:
        """Whether the launch asked for FSDP (accelerate runs it on GPUs only; see `shard`)."""
        return self.world_size > 1 and os.environ.get("ACCELERATE_USE_FSDP", "").lower() == "true"

    @property
    def unsupported_sharding(self) -> str | None:
        """The launch's way of sharding the weights that halo-forge does not run, or None."""
        for name in ("DEEPSPEED", "MEGATRON_LM"):
            if os.environ.get(f"ACCELERATE_USE_{name}", "").lower() == "true":
                return name
        return None

    def shard(self, model: torch.nn.Module) -> torch.nn.Module:
        """Under FSDP, `model` sharded in place as the fine-tune's Trainer would shard it
        (accelerate's FSDP2 preparation: one unit per block the model names in _no_split_modules);
        the Trainer of every cycle then finds it sharded and keeps it, and rollouts, evaluation and
        fine-tunes share the one sharded model. Otherwise `model` as it is."""
        if not self.fsdp_requested:
            return model
        from accelerate import Accelerator
        from accelerate.utils import DistributedType
        from accelerate.utils.fsdp_utils import fsdp2_prepare_model

        accelerator = Accelerator()
        if accelerator.distributed_type != DistributedType.FSDP:
            self.say("FSDP was asked for, but accelerate runs it on GPUs only: this launch runs as DDP.")
            return model
        if not accelerator.is_fsdp2:
            raise HaloForgeError("FSDP version 1 is not supported; set fsdp_version: 2 in the accelerate config "
                                 "(examples/accelerate/fsdp.yaml).")
        plugin = accelerator.state.fsdp_plugin
        if plugin.transformer_cls_names_to_wrap is None:  # the config names none: the model's own blocks
            plugin.transformer_cls_names_to_wrap = blocks_to_wrap(model)
        model = fsdp2_prepare_model(accelerator, model)
        # Every cycle's Trainer prepares the model again with a fresh plugin, which would look for the
        # block classes to wrap by name and not find them (sharding renames them FSDP<Name>): the
        # blocks are wrapped already, so the later preparations wrap nothing more.
        os.environ["FSDP_AUTO_WRAP_POLICY"] = "NO_WRAP"
        # generate() reaches the model below a PEFT wrapper, past the root's gathering hook: give it one
        # (as transformers' Trainer does for its own generation under FSDP2).
        torch.distributed.fsdp.register_fsdp_forward_method(model, "generate")
        self.fsdp = True
        held = sum(local_shard(p).numel() for p in model.parameters())
        whole = sum(p.numel() for p in model.parameters())
        units = sum(is_sharded(module) for module in model.modules())
        self.say(f"FSDP: the weights are sharded over {self.world_size} processes in {units} units; this one holds "
                 f"{held:,} of {whole:,} ({held / whole:.0%}).")
        return model

    def say(self, line: str) -> None:
        if self.is_main:
            print(line, flush=True)

    def full_state_dict(self, model: torch.nn.Module) -> dict | None:
        """Under FSDP, the whole model's weights gathered onto the main process's CPU (every rank
        must call it; the others get an empty dict); otherwise None: the model holds them all."""
        if not is_sharded(model):
            return None
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))

    @property
    def device(self) -> torch.device:
        """This rank's device: its LOCAL_RANK's GPU when launched, else the first GPU or the CPU."""
        return self.state.device

    def map_batches(self, items: Sequence[T], size: int, fn: Callable[[Sequence[T], int], list[R]],
                    description: str = "", show_progress: bool = True, lockstep: bool = False) -> list[R]:
        """fn(batch, batch_index) -> one result per item, run on this rank's share of the batches;
        every rank returns all results in item order. `lockstep`: fn runs the model, which under FSDP
        every rank must run equally often (see the module note)."""
        batches = [(b, items[start:start + size]) for b, start in enumerate(range(0, len(items), size))]
        mine = batches[self.rank::self.world_size]
        progress = track(mine, description, disable=not (show_progress and self.is_main))
        local = [(b, fn(batch, b)) for b, batch in progress]
        if lockstep and self.fsdp and batches and len(mine) < -(-len(batches) // self.world_size):
            fn(batches[0][1], PACING)  # the others run one batch more: keep pace, drop the results
        if self.world_size == 1:
            return [r for _, results in local for r in results]
        from accelerate.utils import gather_object

        return [r for _, results in sorted(gather_object(local), key=lambda pair: pair[0]) for r in results]

    def gather(self, items: list[T]) -> list[T]:
        """Every rank's `items`, joined in rank order, on every rank."""
        if self.world_size == 1:
            return list(items)
        from accelerate.utils import gather_object

        return gather_object(list(items))

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


def is_sharded(model: torch.nn.Module) -> bool:
    """Whether FSDP has sharded `model` (its forward passes are then collective)."""
    from torch.distributed.fsdp import FSDPModule

    return isinstance(model, FSDPModule)


def local_shard(tensor: torch.Tensor) -> torch.Tensor:
    """This process's part of a sharded tensor (FSDP's DTensor), or the tensor itself."""
    return tensor.to_local() if hasattr(tensor, "to_local") else tensor


def blocks_to_wrap(model: torch.nn.Module) -> list[str]:
    """The block classes the model names in `_no_split_modules` that it contains. accelerate wraps
    the whole list and stops at a name it cannot find, and LLaVA's list carries CLIP's text blocks
    though it holds only CLIP's vision tower."""
    present = {type(module).__name__ for module in model.modules()}
    return [name for name in getattr(model, "_no_split_modules", None) or () if name in present]
