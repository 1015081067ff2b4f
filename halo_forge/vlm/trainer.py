"""VLMRAFTTrainer: the RAFT cycle loop, checkpoints and resume.

One cycle is: rollout -> verify -> select -> fine-tune -> evaluate -> checkpoint. Each stage is a
plain function on plain data; this file only sequences them and keeps the record.
"""

from __future__ import annotations

import json
import math
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from rich.console import Console

from .. import interrupts
from ..errors import HaloForgeError
from ..files import finite, write_json
from . import rollout
from .config import VLMRAFTConfig
from .data.registry import get_spec, load_run_data
from .data.sample import VLMSample
from .distributed import PACING, Ranks, local_shard
from .engines import HFEngine, RolloutEngine
from .evaluate import evaluate
from .finetune import add_lora, finetune
from .grpo import grpo_cycle
from .models.loading import LoadedModel, load_model
from .placement import device_for
from .rewards import VerifierReward
from .report import THUMBNAILS_FILE, thumbnail
from .runs import (CONFIG_FILE, EVAL_SET_FILE, HISTORY_FILE, check_settings, finished_cycles, prepare_output,
                   read_history, write_settings)
from .selection import ScoredCompletion, select_keep_set
from .tracking import collapse_warning, make_tracker
from .verifiers import VisionVerifier
from .verifiers.result import STAGES

GALLERY = 12  # prompts per cycle whose image and checks `vlm report --html` shows


@dataclass
class RunState:
    """What a run has done so far: read back from OUTPUT on resume."""

    history: list[dict] = field(default_factory=list)

    @property
    def last_cycle(self) -> int | None:
        return self.history[-1]["cycle"] if self.history else None


def _mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return sum(values) / len(values) if values else None


def describe_grounding(entry: dict) -> str:
    """The grounding part of a cycle's summary line, e.g. ' | hallucinated claims 4.1% of 812 | reasoning 97%'
    (blank for history entries written before these figures existed)."""
    if "eval_reasoning_share" not in entry:
        return ""
    rate = entry["eval_hallucination_rate"]
    claims = "no checkable claims" if rate is None else f"hallucinated claims {rate:.1%} of {entry['eval_claims']}"
    return f" | {claims} | reasoning {entry['eval_reasoning_share']:.0%}"


class VLMRAFTTrainer:
    def __init__(self, config: VLMRAFTConfig, verifier: VisionVerifier | None = None, console: Console | None = None,
                 engine: RolloutEngine | None = None):
        config.validate()
        self.config = config
        self.console = console or Console(markup=False)
        self.output = Path(config.output_dir)
        self.verifier = verifier
        self.loaded: LoadedModel | None = None
        self.engine = engine  # how rollouts are sampled (default: HFEngine on the training model)
        self.tracker = None  # live logging, on the main process
        self.ranks = Ranks()
        self.console.quiet = self.console.quiet or not self.ranks.is_main  # one process speaks

    # -- the run ---------------------------------------------------------------------------

    def train(self, dataset: str | None = None) -> list[dict]:
        """Runs (or resumes) every cycle; returns the training history, cycle 0 first."""
        cfg = self.config
        if dataset is not None:
            cfg.dataset = dataset
        spec = get_spec(cfg.dataset)
        if cfg.num_threads:
            torch.set_num_threads(cfg.num_threads)
        if sharding := self.ranks.unsupported_sharding:
            raise HaloForgeError(f"{sharding} launches are not supported; launch with FSDP "
                                 f"(examples/accelerate/fsdp.yaml) or DDP (examples/accelerate/ddp.yaml).")
        if self.ranks.fsdp_requested and cfg.merge:
            raise HaloForgeError("--merge is not supported under FSDP (the merge needs the whole model in one "
                                 "process); merge a cycle's adapter afterwards in one process.")
        if self.ranks.fsdp_requested and cfg.load_in_4bit:
            raise HaloForgeError("QLoRA (--load-in-4bit) is not supported under FSDP here; use LoRA under FSDP, or "
                                 "QLoRA under DDP.")
        if cfg.algorithm == "grpo" and self.ranks.fsdp_requested:
            raise HaloForgeError("--algorithm grpo runs under DDP, not FSDP (TRL's sampling from sharded weights is "
                                 "not checked here); launch it with examples/accelerate/ddp.yaml, or use raft.")
        state = self.ranks.on_main(self._resume_state)
        self.verifier = self.verifier or cfg.make_verifier(spec.metric)
        self._reward = VerifierReward(self.verifier)
        for note in self.verifier.tool_notes:
            self.console.print(f"verifier: {note}; those checks will be marked not applicable.")
        data = load_run_data(
            cfg.dataset, split=cfg.split, eval_split=cfg.eval_split, eval_dataset=cfg.eval_dataset, limit=cfg.limit,
            eval_limit=cfg.eval_limit, seed=cfg.seed, path=cfg.dataset_path, on_skip=self.console.print,
            max_pixels=cfg.max_pixels, allow_outside_paths=cfg.allow_outside_paths,
        )
        self.console.print(data.policy)
        if not data.train:
            raise HaloForgeError(f"Dataset {cfg.dataset!r} gave no training samples; check --split and --limit.")
        if not data.held_out:
            raise HaloForgeError(f"No held-out samples to judge the run on ({data.policy}); a run that cannot be "
                                 f"evaluated proves nothing, so give --eval-dataset or a larger dataset.")
        self.ranks.on_main(lambda: self._check_held_out(data.held_out_fingerprint()))
        train_set, eval_set = data.train, data.held_out
        eval_metric = get_spec(cfg.eval_dataset).metric if cfg.eval_dataset else spec.metric
        if self.ranks.is_main:  # before the model loads, so a tracker that cannot start costs nothing
            self.tracker = make_tracker(cfg.report_to, self.output, cfg.project, cfg.to_dict(),
                                        steps_done=sum(h.get("finetune_steps") or 0 for h in state.history))
        try:
            self.loaded = self._load(state)
            self.engine = self.engine or HFEngine(self.loaded)
            self.engine.sync(self.loaded)
            self._run_cycles(state, train_set, eval_set, eval_metric)
        finally:
            if self.tracker:
                self.tracker.close()
        return state.history

    def _run_cycles(self, state: RunState, train_set, eval_set, eval_metric: str) -> None:
        """Cycle 0 (the base model's held-out score) unless done, then every cycle not yet done."""
        cfg = self.config
        if state.last_cycle is None:
            result = self._evaluate(eval_set, eval_metric)
            state.history.append({"cycle": 0, **result})
            self.ranks.on_main(lambda: self._save_history(state))
            if self.tracker:
                self.tracker.cycle(state.history[0])
            self.console.print(f"cycle 0 (before training): eval_accuracy {result['eval_accuracy']:.3f}"
                               f"{describe_grounding(result)}")
        for cycle in range(state.last_cycle + 1, cfg.num_cycles + 1):
            entry = self.run_cycle(cycle, self._prompts_for(cycle, train_set), eval_set, eval_metric)
            state.history.append(entry)
            self.ranks.on_main(lambda: self._save_history(state))
            self._print_summary(entry)

    def run_cycle(self, cycle: int, prompts: list[VLMSample], eval_set: list[VLMSample], metric: str) -> dict:
        """One cycle, then evaluate and checkpoint (`metric` scores the held-out set). RAFT: rollout ->
        verify -> select -> fine-tune on the keep-set; GRPO: one pass of TRL's GRPOTrainer."""
        cfg = self.config
        interrupts.check()
        torch.manual_seed(cfg.seed * 1000 + cycle)
        learning_rate = cfg.learning_rate_for(cycle)
        if cfg.algorithm == "grpo":
            start = time.perf_counter()
            stats = grpo_cycle(
                self.loaded, prompts, self._reward, learning_rate=learning_rate, num_generations=cfg.samples_per_prompt,
                prompts_per_step=cfg.grpo_prompts_per_step, temperature=cfg.temperature,
                max_new_tokens=cfg.max_new_tokens, gradient_checkpointing=cfg.gradient_checkpointing,
                seed=cfg.seed + cycle, description=f"cycle {cycle} grpo", ranks=self.ranks,
            )
            groups, keep, entropy = stats.groups, [c for g in stats.groups for c in g], stats.entropy
            timings = {"grpo_seconds": time.perf_counter() - start}
        else:
            groups, entropy, timings = self._rollout_and_verify(cycle, prompts)
            keep = select_keep_set(groups, cfg.reward_threshold, cfg.keep_percent, cfg.max_kept_per_prompt,
                                   rng=random.Random(cfg.seed * 1000 + cycle))
            self.ranks.agree([(c.sample.id, c.completion) for c in keep], f"cycle {cycle} keep-sets")
            start = time.perf_counter()
            stats = finetune(
                self.loaded, [(c.sample, c.completion) for c in keep], learning_rate=learning_rate,
                epochs=cfg.finetune_epochs, batch_size=cfg.finetune_batch_size,
                gradient_accumulation_steps=cfg.gradient_accumulation_steps,
                gradient_checkpointing=cfg.gradient_checkpointing, seed=cfg.seed + cycle,
                description=f"cycle {cycle} fine-tune",
                callbacks=self.tracker.finetune_callbacks(cycle) if self.tracker else (),
            )
            timings["finetune_seconds"] = time.perf_counter() - start
        self._refuse_non_finite(cycle, stats.loss, stats.steps)
        self.engine.sync(self.loaded)

        evaluation = self._evaluate(eval_set, metric)
        interrupts.check()  # never checkpoint a cycle after a Ctrl-C, even one a library swallowed
        weights = self.ranks.full_state_dict(self.loaded.model)  # under FSDP: gathered onto the main process
        self.ranks.on_main(lambda: self._save_checkpoint(cycle, groups, keep, weights))

        scored = [c for g in groups for c in g]
        entry = {
            "cycle": cycle,
            "algorithm": cfg.algorithm,
            **{k: v for k, v in evaluation.items() if k != "eval_seconds"},
            "mean_reward": _mean(c.reward for c in scored),
            "success_rate": _mean(float(c.result.success) for c in scored),
            "stage_scores": {
                stage: _mean(c.result.details[stage].score for c in scored if stage in c.result.details)
                for stage in STAGES
            },
            "distinct_per_prompt": _mean(len({c.completion for c in g}) for g in groups),
            "token_entropy": entropy,
            "num_prompts": len(prompts),
            "num_samples": len(scored),
            "num_kept": len(keep),
            "learning_rate": learning_rate,
            "finetune_steps": stats.steps,
            "finetune_loss": stats.loss,
            **timings,
            "eval_seconds": evaluation["eval_seconds"],
        }
        if self.tracker:
            self.tracker.cycle(entry, groups)
        return entry

    def _rollout_and_verify(self, cycle: int, prompts: list[VLMSample]):
        """K sampled completions per prompt, each scored: (groups, mean token entropy, timings).

        Batches are shared out among the processes; batch b samples with seed (cycle, b), so the
        completions do not depend on how many processes there are."""
        cfg, timings = self.config, {}
        meter = rollout.EntropyMeter(self._stop_ids())
        seed = (cfg.seed * 1000 + cycle) * 100_000
        start = time.perf_counter()
        completions = self.ranks.map_batches(prompts, cfg.rollout_batch_size, lambda batch, b: self.engine.sample(
            batch, num_samples=cfg.samples_per_prompt, temperature=cfg.temperature, max_new_tokens=cfg.max_new_tokens,
            seed=seed + b, entropy=None if b == PACING else meter,
        ), description=f"cycle {cycle} rollout", lockstep=True)
        entropy_total, entropy_tokens = self.ranks.total(float(meter.total), int(meter.tokens))
        timings["rollout_seconds"] = time.perf_counter() - start
        start = time.perf_counter()
        results = self.ranks.map_batches(
            list(zip(prompts, completions)), cfg.rollout_batch_size,
            lambda batch, b: self.verifier.verify_batch([s for s, _ in batch], [c for _, c in batch]),
            description=f"cycle {cycle} verify",
        )
        groups = [
            [ScoredCompletion(s, c, r) for c, r in zip(cs, rs)] for s, cs, rs in zip(prompts, completions, results)
        ]
        timings["verify_seconds"] = time.perf_counter() - start
        return groups, entropy_total / entropy_tokens if entropy_tokens else None, timings

    def _stop_ids(self) -> list[int]:
        """Token ids that end a completion (eos, pad): rows past them are finished."""
        tokenizer = self.loaded.processor.tokenizer
        eos = self.loaded.model.generation_config.eos_token_id
        eos = eos if isinstance(eos, list) else [eos]
        return [i for i in (*eos, tokenizer.eos_token_id, tokenizer.pad_token_id) if i is not None]

    # -- helpers ----------------------------------------------------------------------------

    def _resume_state(self) -> RunState:
        """Reads back a previous run in OUTPUT (see runs.py for what is refused)."""
        if not prepare_output(self.output):
            write_settings(self.output / CONFIG_FILE, self.config.to_dict())
            return RunState()
        check_settings(self.output, self.config, self.console.print)
        if not (self.output / HISTORY_FILE).is_file():  # stopped before cycle 0 was evaluated
            return RunState()
        state = RunState(history=read_history(self.output))
        if state.last_cycle:
            self.console.print(f"Resuming {self.output}: cycles 1..{state.last_cycle} are done.")
        return state

    def _check_held_out(self, fingerprint: dict) -> None:
        """Records the held-out set's fingerprint in a new run; refuses to resume one judged on another."""
        record = self.output / EVAL_SET_FILE
        if record.is_file():
            previous = json.loads(record.read_text())
            if previous != fingerprint:
                raise HaloForgeError(
                    f"{self.output} was evaluated on another held-out set ({previous['n']} samples, sha256 "
                    f"{previous['sha256'][:12]}) than this run would be ({fingerprint['n']}, "
                    f"{fingerprint['sha256'][:12]}); its cycles would not compare, so pass another --output."
                )
        else:
            write_json(record, fingerprint)

    def _load(self, state: RunState) -> LoadedModel:
        """The base model wrapped for training, or the last finished cycle's checkpoint."""
        cfg = self.config
        options = cfg.loading_options(get_spec(cfg.dataset))
        device = device_for(cfg.model_name, 4 if cfg.dtype == "fp32" else 2, self.ranks.world_size, self.ranks.device)
        if device == "auto":
            self.console.print(f"{cfg.model_name} is larger than one GPU: its layers are spread over the "
                               f"{torch.cuda.device_count()} visible GPUs (device_map='auto').")
        else:
            self._note_devices()
        if state.last_cycle:
            loaded = load_model(str(self._cycle_dir(state.last_cycle)), trainable_adapter=True, device=device,
                                **options)
        else:
            model_name = cfg.model_name
            if Path(model_name).exists():  # absolute, so the adapter's base path works from anywhere
                model_name = str(Path(model_name).resolve())
            loaded = load_model(model_name, device=device, **options)
            if not cfg.full_finetune:
                add_lora(loaded, cfg, seed=cfg.seed)
        loaded.model = self.ranks.shard(loaded.model)  # under FSDP; otherwise as it is
        return loaded

    def _prompts_for(self, cycle: int, train_set: list[VLMSample]) -> list[VLMSample]:
        """A fresh seeded draw each cycle: `prompts_per_cycle` of the training prompts, or all of
        them reshuffled, so dataset order never decides what is sampled or kept first."""
        n = self.config.prompts_per_cycle
        return random.Random(self.config.seed * 1000 + cycle).sample(train_set, min(n or len(train_set), len(train_set)))

    def _evaluate(self, eval_set: list[VLMSample], metric: str) -> dict:
        """Held-out accuracy, and how grounded the answers are (hallucinated claims, reasoning share)."""
        start = time.perf_counter()
        result = evaluate(
            self.loaded, eval_set, metric, batch_size=self.config.rollout_batch_size,
            max_new_tokens=self.config.max_new_tokens, verifier=self.verifier, ranks=self.ranks,
        )
        return {"eval_accuracy": result.accuracy, "eval_hallucination_rate": result.grounding.hallucination_rate,
                "eval_reasoning_share": result.grounding.reasoning_share, "eval_claims": result.grounding.claims,
                "eval_seconds": time.perf_counter() - start}

    def _cycle_dir(self, cycle: int) -> Path:
        return self.output / f"cycle_{cycle}"

    def _save_checkpoint(self, cycle: int, groups: list[list[ScoredCompletion]], keep: list[ScoredCompletion],
                         weights: dict | None = None) -> None:
        """cycle_N/: weights (adapter, or full model) and processor that `from_pretrained` loads,
        the scored rollouts as JSONL, and on request a merged copy. `weights`: the whole model's
        state when the model itself holds only a shard of it (FSDP)."""
        directory = self._cycle_dir(cycle)
        directory.mkdir(parents=True, exist_ok=True)
        self.loaded.model.save_pretrained(directory, state_dict=weights)
        self.loaded.processor.save_pretrained(directory)
        kept = {id(c) for c in keep}
        gallery = {g[0].sample.id for g in groups[:GALLERY] if g}
        with open(directory / "rollouts.jsonl", "w") as f:
            for c in (c for g in groups for c in g):
                record = {
                    "id": c.sample.id, "question": c.sample.question, "answers": c.sample.answers,
                    "completion": c.completion, "reward": c.reward, "success": c.result.success,
                    "stages": {k: v.score for k, v in c.result.details.items()}, "kept": id(c) in kept,
                }
                if c.sample.id in gallery:  # the report's gallery shows each check and its evidence
                    record["checks"] = {
                        k: [{"name": x["name"], "score": x["score"], "evidence": str(x.get("evidence", ""))}
                            for x in v.checks] or v.reason
                        for k, v in c.result.details.items()
                    }
                f.write(json.dumps(finite(record), allow_nan=False) + "\n")
        write_json(directory / THUMBNAILS_FILE, {g[0].sample.id: thumbnail(g[0].sample.load_image())
                                                 for g in groups[:GALLERY] if g})
        write_settings(directory / CONFIG_FILE, self.config.to_dict())
        if self.config.merge and not self.config.full_finetune:
            options = {**self.config.loading_options(get_spec(self.config.dataset)), "load_in_4bit": False}
            merged = load_model(str(directory), device="cpu", **options)
            merged.model.merge_and_unload().save_pretrained(directory / "merged")
            merged.processor.save_pretrained(directory / "merged")

    def _note_devices(self) -> None:
        """Says, once, when GPUs go unused: one process trains on one device (never the Trainer's
        implicit DataParallel, which scatters Qwen2-VL's flattened pixel_values inconsistently)."""
        visible = torch.cuda.device_count()
        if self.ranks.world_size == 1 and visible > 1:
            self.console.print(f"{visible} GPUs are visible and this run uses one; to use all of them, start it with "
                               f"`accelerate launch --num_processes {visible} -m halo_forge.cli vlm train ...` "
                               f"(README: Scaling out).")

    def _refuse_non_finite(self, cycle: int, loss: float, steps: int) -> None:
        """A diverged fine-tune is never checkpointed: resuming from it would carry NaN weights on."""
        bad = [n for n, p in self.loaded.model.named_parameters()  # under FSDP: this rank's shard of each
               if p.requires_grad and not torch.isfinite(local_shard(p)).all()]
        if self.ranks.total(len(bad))[0] or (steps and not math.isfinite(loss)):
            raise HaloForgeError(
                f"cycle {cycle} diverged (loss {loss}, {len(bad)} non-finite weight tensors, e.g. {bad[:1]}) at "
                f"learning rate {self.config.learning_rate_for(cycle):.2e}; nothing of it was saved. Lower "
                f"--learning-rate and run again: it resumes after cycle {cycle - 1}."
            )

    def _save_history(self, state: RunState) -> None:
        write_json(self.output / HISTORY_FILE, state.history)

    def _print_summary(self, e: dict) -> None:
        phases = " ".join(f"{k.removesuffix('_seconds')} {v:.1f}s" for k, v in e.items() if k.endswith("_seconds"))
        entropy = "" if e["token_entropy"] is None else f", entropy {e['token_entropy']:.2f}"
        self.console.print(
            f"cycle {e['cycle']}: eval_accuracy {e['eval_accuracy']:.3f}{describe_grounding(e)} | "
            f"mean_reward {e['mean_reward']:.3f} | kept {e['num_kept']}/{e['num_samples']} | "
            f"distinct {e['distinct_per_prompt']:.1f}/{self.config.samples_per_prompt} per prompt{entropy} | "
            f"lr {e['learning_rate']:.2e} | {phases}"
        )
        if warning := collapse_warning(e):
            self.console.print(f"warning: {warning}.")


def resume_hint(output: Path) -> str:
    """Where an interrupted `vlm train` into `output` will resume."""
    done = finished_cycles(output)
    return (f"Run the same command again to resume after cycle {done} (cycles 1..{done} are saved in {output})."
            if done else "Run the same command again to resume; no cycle had finished, so it starts at cycle 1.")
