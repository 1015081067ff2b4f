"""`halo-forge` entry point: parses arguments and calls the library; no logic of its own."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from . import interrupts
from .errors import HaloForgeError
from .vlm.config import BenchmarkOptions, SFTOptions, Settings, VerifierSettings, VLMRAFTConfig, field_type

console = Console(markup=False)  # user text (file names, answers) prints literally: "[x]" is not markup


def _quiet_libraries() -> None:
    """Our own progress bars and summaries replace the libraries' logs and bars; their warnings
    stay on (each shown once), so a missing weight or a decompression bomb is never hidden."""
    import warnings

    import datasets
    import huggingface_hub
    import transformers

    warnings.simplefilter("once")
    # The libraries' own deprecations are theirs to fix; unclosed resources stay ignored, as Python's
    # defaults have them (a tracker's temporary folder cleaned up at exit is not the user's concern).
    for category in (DeprecationWarning, FutureWarning, ResourceWarning):
        warnings.filterwarnings("ignore", category=category, module=r"(?!halo_forge)")
    transformers.utils.logging.set_verbosity_warning()
    transformers.utils.logging.disable_progress_bar()
    datasets.disable_progress_bars()
    huggingface_hub.utils.disable_progress_bars()


# -- settings as flags ---------------------------------------------------------------------------


def add_settings_flags(parser: argparse.ArgumentParser, settings: type[Settings]) -> None:
    """One flag per settings field (so every field can be set and every flag reaches the run),
    and --config for a YAML file of the same fields. Flags default to None: unset, the YAML or the
    field's default applies."""
    for f in dataclasses.fields(settings):
        flag = f.metadata["flag"] or "--" + f.name.replace("_", "-")
        kind, _ = field_type(f)
        help_text = f"{f.metadata['help']} (default: {f.default})"
        if kind is bool:
            parser.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        else:
            parser.add_argument(flag, dest=f.name, type=kind, default=None, help=help_text)
    parser.add_argument("--config", help="YAML file of these settings (field names as keys); flags override it.")


def settings_from_args(args: argparse.Namespace, settings: type[Settings]):
    """YAML (if given) under the flags that were set; defaults under both (each command validates
    the whole before it loads anything)."""
    flags = {f.name: getattr(args, f.name) for f in dataclasses.fields(settings)}
    if args.config:
        return settings.from_yaml(args.config, **flags)
    return settings.from_dict({k: v for k, v in flags.items() if v is not None})


def print_plan(config: VLMRAFTConfig, num_gpus: int | None = None, gpu_gb: float = 80.0) -> None:
    from .vlm.data.registry import get_spec

    config.validate()
    spec = get_spec(config.dataset)
    split = config.split or spec.train_split
    eval_split = config.eval_split or spec.eval_split
    partitioned = split == eval_split and config.eval_dataset is None
    available = int(spec.splits.get(split, 0) * (1 - spec.held_out_fraction if partitioned else 1))
    prompts = min(x for x in (available, config.limit, config.prompts_per_cycle) if x is not None)
    table = Table(title="vlm train --dry-run: the plan", show_header=True)
    table.add_column("setting")
    table.add_column("value")
    for key, value in config.to_dict().items():
        table.add_row(key, str(value))
    console.print(table)
    console.print(
        f"held out: {config.eval_dataset or f'split {eval_split!r}'}"
        + (f", partitioned from the training split by image ({spec.held_out_fraction:.0%} held out)" if partitioned else "")
    )
    console.print(
        f"dataset {spec.name!r} split {split!r}: {prompts} prompts x {config.samples_per_prompt} samples = "
        f"{prompts * config.samples_per_prompt} completions per cycle; metric {spec.metric}"
    )
    schedule = ", ".join(f"{c}: {config.learning_rate_for(c):.2e}" for c in range(1, config.num_cycles + 1))
    console.print(f"learning rate per cycle: {schedule}")
    console.print(f"checkpoints: {Path(config.output_dir) / 'cycle_1'} .. cycle_{config.num_cycles}")
    print_memory_estimate(config, spec, num_gpus, gpu_gb)


def print_memory_estimate(config: VLMRAFTConfig, spec, num_gpus: int | None = None, gpu_gb: float = 80.0) -> None:
    from .vlm.memory import estimate, image_tokens, model_config
    from .vlm.models.sizes import count_parameters

    model = model_config(config.model_name)
    if model is None:
        console.print(f"memory estimate: unavailable (the config of {config.model_name!r} is not available offline)")
        return
    pixels = config.max_pixels or spec.max_pixels or 448 * 448
    tokens = image_tokens(model, pixels)
    if tokens is None:
        tokens, basis = 256, "256 image tokens assumed (this model's image layout is unknown)"
    else:
        basis = f"{tokens} image tokens for images up to {pixels:,} pixels"
    dtype_bytes = 4 if config.dtype == "fp32" else 2
    e = estimate(model, count_parameters(model), lora_r=None if config.full_finetune else config.lora_r,
                 dtype_bytes=dtype_bytes, image_tokens=tokens, gradient_checkpointing=config.gradient_checkpointing,
                 batch_size=config.finetune_batch_size)
    kind = "full fine-tune" if config.full_finetune else f"LoRA r={config.lora_r}"
    console.print(
        f"memory estimate for one training step ({kind}, batch {config.finetune_batch_size}, 128 text + {basis} "
        f"each, {8 * dtype_bytes}-bit weights): {e.total_gb:.1f} GB = weights {e.weights_gb:.1f} + "
        f"gradients and optimizer {e.trainable_gb:.1f} + activations {e.activations_gb:.1f}"
    )
    if num_gpus:
        print_gpu_plan(config, model, tokens, dtype_bytes, num_gpus, gpu_gb)


def print_gpu_plan(config: VLMRAFTConfig, model, tokens: int, dtype_bytes: int, num_gpus: int, gpu_gb: float) -> None:
    """Per-GPU memory of a training step under each strategy on `num_gpus` GPUs of `gpu_gb`, and the
    first that fits: what to rent before renting it."""
    from .vlm.models.sizes import count_parameters
    from .vlm.placement import HEADROOM, plan

    options, chosen = plan(model, count_parameters(model), num_gpus=num_gpus, gpu_gb=gpu_gb,
                           lora_r=None if config.full_finetune else config.lora_r, dtype_bytes=dtype_bytes,
                           image_tokens=tokens, gradient_checkpointing=config.gradient_checkpointing,
                           batch_size=config.finetune_batch_size)
    table = Table(title=f"per-GPU memory of one training step on {num_gpus} x {gpu_gb:g} GB", box=box.SIMPLE_HEAD)
    for column in ("strategy", "weights", "grads+optimizer", "activations", "total", "fits"):
        table.add_column(column, justify="left" if column == "strategy" else "right")
    for s in options:
        fits = "yes" if s.total_gb <= gpu_gb * HEADROOM else "no"
        table.add_row(s.name, f"{s.weights_gb:.1f}", f"{s.state_gb:.1f}", f"{s.activations_gb:.1f}",
                      f"{s.total_gb:.1f}", fits if s.supported else f"{fits} (not yet run by halo-forge)")
    console.print(table)
    mine = options[1] if config.load_in_4bit else options[0]
    console.print(f"these settings ({mine.name}): {mine.total_gb:.1f} GB per GPU, "
                  f"{'which fits' if mine.total_gb <= gpu_gb * HEADROOM else 'which does not fit'}")
    if chosen is None:
        console.print(f"none fits in {HEADROOM:.0%} of {gpu_gb:g} GB per GPU: lower --finetune-batch-size, keep "
                      f"--gradient-checkpointing, use LoRA, or more GPUs.")
    else:
        console.print(f"cheapest that fits: {chosen.name} ({chosen.total_gb:.1f} GB per GPU); start it with: "
                      f"{chosen.launch}")


def cmd_train(args: argparse.Namespace) -> int:
    config = settings_from_args(args, VLMRAFTConfig)
    if args.dry_run:
        print_plan(config, args.num_gpus, args.gpu_memory_gb)
        return 0
    from .vlm.trainer import VLMRAFTTrainer, resume_hint

    args.resume_hint = lambda: resume_hint(Path(config.output_dir))
    history = VLMRAFTTrainer(config, console=console).train()
    first, last = history[0], history[-1]
    console.print(
        f"held-out accuracy: cycle 0 {first['eval_accuracy']:.3f} -> cycle {last['cycle']} "
        f"{last['eval_accuracy']:.3f} ({100 * (last['eval_accuracy'] - first['eval_accuracy']):+.1f} points); "
        f"history in {Path(config.output_dir) / 'training_history.json'}"
    )
    return 0


# -- other commands ------------------------------------------------------------------------------


def cmd_sft(args: argparse.Namespace) -> int:
    from .vlm.sft import resume_hint, run_sft

    options = settings_from_args(args, SFTOptions)
    args.resume_hint = lambda: resume_hint(Path(options.output_dir))
    run_sft(options, console=console)
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from .vlm.data.images import ImageError, decode
    from .vlm.metrics import METRICS

    settings = settings_from_args(args, VerifierSettings)
    settings.validate()
    if args.metric not in METRICS:
        raise HaloForgeError(f"Unknown metric {args.metric!r}; choose one of {', '.join(METRICS)}.")
    try:
        image = decode(args.image)
    except ImageError as exc:
        raise HaloForgeError(f"Image {args.image!r} cannot be used: {exc}.") from exc
    verifier = settings.make_verifier(args.metric)
    result = verifier.verify(image, args.prompt, args.completion, args.answer)
    table = Table(title=f"reward {result.reward:.3f} — {'correct' if result.success else 'wrong'}")
    for column in ("stage", "score", "check", "check score", "evidence"):
        table.add_column(column)
    for stage, detail in result.details.items():
        score = "n/a" if detail.score is None else f"{detail.score:.2f}"
        if not detail.checks:
            table.add_row(stage, score, detail.reason, "", "")
        for i, check in enumerate(detail.checks):
            check_score = "n/a" if check["score"] is None else f"{check['score']:.2f}"
            table.add_row(stage if i == 0 else "", score if i == 0 else "", check["name"], check_score,
                          str(check.get("evidence", "")))
    console.print(table)
    for note in verifier.tool_notes:
        console.print(f"note: {note}")
    return 0


def cmd_make_tiny_model(args: argparse.Namespace) -> int:
    from .vlm.models.tiny import build_tiny_model

    with console.status(f"building a {args.size} {args.family} model: tokenizer, processor, weights"):
        path = build_tiny_model(args.family, args.output, seed=args.seed, size=args.size)
    console.print(f"tiny {args.family} model saved to {path}")
    return 0


def cmd_datasets(args: argparse.Namespace) -> int:
    from huggingface_hub.constants import HF_HUB_CACHE

    from .vlm.data.registry import REGISTRY

    table = Table(title="halo-forge vlm datasets")
    for column in ("name", "task", "hub id", "splits (rows)", "metric", "local"):
        table.add_column(column, no_wrap=column in ("name", "hub id", "metric"))
    for spec in REGISTRY.values():
        splits = ", ".join(
            f"{name} {size:,}" + (" (no answers)" if name in spec.unanswered_splits else "")
            for name, size in spec.splits.items()
        )
        cached = spec.hub_id is None or (Path(HF_HUB_CACHE) / f"datasets--{spec.hub_id.replace('/', '--')}").is_dir()
        local = "built in" if spec.hub_id is None else ("cached" if cached else "no")
        table.add_row(spec.name, spec.task, spec.hub_id or "-", splits, spec.metric, local)
    console.print(table)
    console.print("local 'no': loading needs a network, or a local copy passed with --dataset-path.")
    console.print("Also: any local .jsonl file ({\"image\", \"question\", \"answers\"} per line) as --dataset.")
    return 0


def cmd_benchmark(args: argparse.Namespace) -> int:
    from .vlm.benchmark import run_benchmark

    options = settings_from_args(args, BenchmarkOptions)
    report = run_benchmark(options, on_skip=console.print)
    table = Table(title=f"vlm benchmark: {options.model_name}")
    for column in ("dataset", "split", "metric", "N", "score", "seconds", "samples/s"):
        table.add_column(column, justify="right")
    table.add_row(report["dataset"], report["split"], report["metric"], str(report["n"]), f"{report['score']:.4f}",
                  f"{report['seconds']:.1f}", f"{report['samples_per_second']:.2f}")
    console.print(table)
    if options.output:
        console.print(f"every sample's prediction and score: {options.output}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """The before/after table of a run, from its training_history.json (a figure a cycle lacks
    is left blank)."""
    from .vlm.runs import read_history

    history = read_history(Path(args.run))
    table = Table(title=f"run {args.run}", caption="refuted: share of the held-out answers' visual claims the image "
                  "refutes; reasoning: share of answers that reason first", box=box.SIMPLE_HEAD, pad_edge=False)
    for column in ("cycle", "accuracy", "refuted", "reasoning", "reward", "kept", "lr", "seconds"):
        table.add_column(column, justify="right", no_wrap=True, min_width=9 if column == "kept" else len(column))

    def show(entry: dict, key: str, form: str) -> str:
        value = entry.get(key)
        return format(value, form) if isinstance(value, (int, float)) and not isinstance(value, bool) else ""

    for e in history:
        seconds = sum(v for k, v in e.items() if k.endswith("_seconds") and isinstance(v, (int, float)))
        kept = f"{e['num_kept']}/{e['num_samples']}" if "num_kept" in e and "num_samples" in e else ""
        table.add_row(
            str(e["cycle"]), show(e, "eval_accuracy", ".3f"), show(e, "eval_hallucination_rate", ".1%"),
            show(e, "eval_reasoning_share", ".1%"), show(e, "mean_reward", ".3f"), kept,
            show(e, "learning_rate", ".1e"), f"{seconds:.1f}",
        )
    console.print(table)
    first, last = history[0], history[-1]
    if not all(isinstance(e["eval_accuracy"], (int, float)) for e in (first, last)):
        raise HaloForgeError(f"{args.run} has no held-out accuracy for cycle {first['cycle']} or {last['cycle']}.")
    gain = last["eval_accuracy"] - first["eval_accuracy"]
    console.print(
        f"held-out accuracy {first['eval_accuracy']:.3f} -> {last['eval_accuracy']:.3f}: "
        f"{100 * gain:+.1f} points after {last['cycle']} cycles"
    )
    if first.get("eval_hallucination_rate") is not None and last.get("eval_hallucination_rate") is not None:
        console.print(
            f"hallucinated-claim rate {first['eval_hallucination_rate']:.1%} -> {last['eval_hallucination_rate']:.1%}; "
            f"answers that reason {first['eval_reasoning_share']:.0%} -> {last['eval_reasoning_share']:.0%}"
        )
    if args.html:
        from .vlm.report import write_html

        page = None if args.html is True else Path(args.html)
        console.print(f"report: {write_html(Path(args.run), page)}", soft_wrap=True)  # a path one can copy
    if args.min_gain is not None and gain < args.min_gain:
        raise HaloForgeError(f"the gain of {100 * gain:.1f} points is below the required {100 * args.min_gain:.1f}.")
    if args.min_hallucination_drop is not None:
        before, after = first.get("eval_hallucination_rate"), last.get("eval_hallucination_rate")
        if before is None or after is None:
            raise HaloForgeError("this run has no hallucinated-claim rate for its first and last cycle "
                                 "(its held-out answers made no checkable claims).")
        if before - after < args.min_hallucination_drop:
            raise HaloForgeError(f"the hallucinated-claim rate fell by {100 * (before - after):.1f} points, "
                                 f"less than the required {100 * args.min_hallucination_drop:.1f}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="halo-forge", description="RAFT training for vision-language models.")
    parser.add_argument("--debug", action="store_true", help="Show the full traceback of an unexpected error.")
    top = parser.add_subparsers(dest="group", required=True)
    vlm = top.add_parser("vlm", help="Vision-language model commands.").add_subparsers(dest="command", required=True)

    train = vlm.add_parser("train", help="RAFT-train a VLM: rollout, verify, select, fine-tune, evaluate.")
    add_settings_flags(train, VLMRAFTConfig)
    train.add_argument("--dry-run", action="store_true", help="Validate and print the plan; load nothing heavy.")
    train.add_argument("--num-gpus", type=int, help="With --dry-run: price each strategy (DDP, QLoRA, FSDP) on "
                                                    "this many GPUs and say which fits.")
    train.add_argument("--gpu-memory-gb", type=float, default=80.0, help="With --num-gpus: memory of each GPU "
                                                                         "(default: 80).")
    train.set_defaults(func=cmd_train)

    sft = vlm.add_parser("sft", help="Supervised fine-tuning on the dataset's targets (warm start); resumable.")
    add_settings_flags(sft, SFTOptions)
    sft.set_defaults(func=cmd_sft)
    benchmark = vlm.add_parser("benchmark", help="Score a model (hub id, folder or cycle_N) on a dataset with its "
                                                 "official metric.")
    add_settings_flags(benchmark, BenchmarkOptions)
    benchmark.set_defaults(func=cmd_benchmark)

    verify = vlm.add_parser("verify", help="Score one completion against an image and print each stage's checks.")
    verify.add_argument("--image", required=True)
    verify.add_argument("--prompt", required=True)
    verify.add_argument("--completion", required=True)
    verify.add_argument("--answer", required=True, action="append", help="A gold answer (repeatable).")
    verify.add_argument("--metric", default="exact_match", help="Output metric (a dataset's official one).")
    add_settings_flags(verify, VerifierSettings)
    verify.set_defaults(func=cmd_verify)

    tiny = vlm.add_parser("make-tiny-model", help="Build a tiny model offline for tests and demos.")
    tiny.add_argument("--family", default="qwen2_vl")
    tiny.add_argument("--output", required=True)
    tiny.add_argument("--seed", type=int, default=0)
    tiny.add_argument("--size", default="tiny", help="tiny (0.6M parameters, the default) or small (about 3.7M; "
                                                     "Qwen families only)")
    tiny.set_defaults(func=cmd_make_tiny_model)

    vlm.add_parser("datasets", help="List the datasets halo-forge knows.").set_defaults(func=cmd_datasets)

    report = vlm.add_parser("report", help="Print a run's per-cycle table and its held-out gain.")
    report.add_argument("run", help="The --output folder of a `vlm train` run.")
    report.add_argument("--html", nargs="?", const=True, metavar="PATH",
                        help="Also write a self-contained HTML report (RUN/report.html, or PATH): curves, time per "
                             "phase, settings and a filterable gallery of rollouts.")
    report.add_argument("--min-gain", type=float, help="Fail unless accuracy rose by at least this (0..1).")
    report.add_argument("--min-hallucination-drop", type=float,
                        help="Fail unless the hallucinated-claim rate fell by at least this (0..1).")
    report.set_defaults(func=cmd_report)
    return parser


def error(message: str) -> None:
    """One line on stderr, printed literally."""
    Console(stderr=True, markup=False, highlight=False).print(Text.assemble(("error: ", "red"), message), soft_wrap=True)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _quiet_libraries()
    interrupts.install()
    try:
        return args.func(args)
    except HaloForgeError as exc:
        error(str(exc))
        return 2
    except KeyboardInterrupt:
        console.print(f"Interrupted. {getattr(args, 'resume_hint', lambda: '')()}".rstrip())
        return 130
    except Exception as exc:  # a bug or an unforeseen input: one line, the traceback on request
        if args.debug:
            raise
        error(f"{type(exc).__name__}: {' '.join(str(exc).split())} (run with --debug for the traceback)")
        return 1


if __name__ == "__main__":
    sys.exit(main())
