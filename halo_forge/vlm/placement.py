"""Where a model goes: a plan for N GPUs before renting them, and the device map of a model too
large for one device.

The plan prices one training step per GPU under each strategy from `memory.estimate` (weights,
trainable state, activations): one GPU or DDP (every GPU holds everything), QLoRA (4-bit base
weights), FSDP (weights and trainable state sharded over the GPUs) and QLoRA + FSDP, and names the
first that halo-forge runs and that fits. QLoRA + FSDP is priced but not run: 4-bit weights under
FSDP2 need bitsandbytes' CUDA kernels, which no test here can reach.
Rollouts need the weights and a KV cache; with `device_map="auto"` one process spreads them over
the GPUs it sees.
"""

from __future__ import annotations

from dataclasses import dataclass

from .memory import GB, MemoryEstimate, estimate

NF4_BYTES = 0.5625  # 4-bit weights with double-quantised scales, per parameter
HEADROOM = 0.9  # the share of a GPU's memory a plan may fill (CUDA context, allocator, fragmentation)


@dataclass
class Strategy:
    name: str
    weights_gb: float
    state_gb: float
    activations_gb: float
    launch: str  # how to start it
    supported: bool = True  # whether halo-forge runs it today (QLoRA + FSDP: not yet)

    @property
    def total_gb(self) -> float:
        return self.weights_gb + self.state_gb + self.activations_gb


def strategies(base: MemoryEstimate, parameters: int, num_gpus: int, full_finetune: bool) -> list[Strategy]:
    """Per-GPU memory of one training step under each strategy, cheapest to run first."""
    n = num_gpus
    out = [Strategy("one GPU" if n == 1 else f"DDP on {n} GPUs", base.weights_gb, base.trainable_gb,
                    base.activations_gb, "halo-forge vlm train ..." if n == 1 else
                    f"accelerate launch --config_file examples/accelerate/ddp.yaml --num_processes {n} "
                    f"-m halo_forge.cli vlm train ...")]
    nf4 = parameters * NF4_BYTES / GB
    if not full_finetune:
        out.append(Strategy("QLoRA" + ("" if n == 1 else f" + DDP on {n} GPUs"), nf4, base.trainable_gb,
                            base.activations_gb, out[0].launch + " --load-in-4bit"))
    if n > 1:
        fsdp = f"accelerate launch --config_file examples/accelerate/fsdp.yaml --num_processes {n} -m halo_forge.cli vlm train ..."
        out.append(Strategy(f"FSDP on {n} GPUs", base.weights_gb / n, base.trainable_gb / n, base.activations_gb,
                            fsdp))
        if not full_finetune:
            out.append(Strategy(f"QLoRA + FSDP on {n} GPUs", nf4 / n, base.trainable_gb / n, base.activations_gb,
                                fsdp + " --load-in-4bit", supported=False))
    return out


def plan(config, parameters: int, *, num_gpus: int, gpu_gb: float, lora_r: int | None, dtype_bytes: int,
         image_tokens: int, gradient_checkpointing: bool, batch_size: int) -> tuple[list[Strategy], Strategy | None]:
    """Every strategy's per-GPU step memory, and the first supported one that fits in `gpu_gb`
    (None: none does)."""
    base = estimate(config, parameters, lora_r=lora_r, dtype_bytes=dtype_bytes, image_tokens=image_tokens,
                    gradient_checkpointing=gradient_checkpointing, batch_size=batch_size)
    options = strategies(base, parameters, num_gpus, full_finetune=lora_r is None)
    return options, next((s for s in options if s.supported and s.total_gb <= gpu_gb * HEADROOM), None)


def device_for(model_name: str, dtype_bytes: int, world_size: int, device):
    """`device`, or "auto" (spread over every visible GPU with device_map) when one process would
    otherwise put more weights on one GPU than it holds. Under accelerate launch each process keeps
    its own device: sharding is then FSDP's job."""
    import torch

    if world_size > 1 or not torch.cuda.is_available() or torch.cuda.device_count() < 2:
        return device
    from .memory import model_config
    from .models.sizes import count_parameters

    config = model_config(model_name)
    if config is None:
        return device
    capacity = torch.cuda.get_device_properties(0).total_memory * HEADROOM
    return "auto" if count_parameters(config) * dtype_bytes > capacity else device
