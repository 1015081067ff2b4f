"""Live run logging on the field's trackers: TensorBoard, Weights & Biases or Trackio.

Per cycle: held-out accuracy, hallucinated-claim rate and reasoning share, mean reward, success
rate, each stage's mean score, keep rate, learning rate, distinct completions per prompt and token
entropy, the fine-tune loss and each phase's seconds, a table of sampled completions with their
rewards, and a warning when sampling collapses. Per fine-tune step: the loss.

- TensorBoard: event files under OUTPUT/runs/ (`tensorboard --logdir OUTPUT`); each fine-tune step's
  loss through the Trainer's own TensorBoardCallback, one folder per cycle.
- wandb / trackio: one run per output folder, named after it, in `--project`; cycle figures under
  `cycle/` against the cycle number, fine-tune figures under `finetune/` against the step counted
  over the whole run. The Trainer's own WandbCallback and TrackioCallback are not used: each owns
  its run (starts it, finishes it when a Trainer ends, binds every metric to that Trainer's step),
  and a RAFT run spans one Trainer per cycle. wandb writes under OUTPUT/runs/wandb (offline with
  WANDB_MODE=offline); trackio keeps its own local store (`trackio show --project PROJECT`).
"""

from __future__ import annotations

import importlib.util
import secrets
from abc import ABC, abstractmethod
from pathlib import Path

from ..errors import HaloForgeError

CHOICES = ("auto", "tensorboard", "wandb", "trackio", "none")
COLLAPSE = 1.5  # fewer distinct completions per prompt than this: sampling has collapsed


def missing_package(report_to: str) -> str | None:
    """The pip package `report_to` needs and this environment lacks, or None."""
    if report_to in ("auto", "none") or importlib.util.find_spec(report_to) is not None:
        return None
    return report_to


def cycle_figures(entry: dict) -> dict[str, float]:
    """A history entry's numbers, flattened: stage scores as stage_NAME, plus the keep rate."""
    figures = {k: v for k, v in entry.items() if k != "cycle" and isinstance(v, (int, float))
               and not isinstance(v, bool)}
    figures.update({f"stage_{k}": v for k, v in (entry.get("stage_scores") or {}).items() if v is not None})
    if entry.get("num_samples"):
        figures["keep_rate"] = entry["num_kept"] / entry["num_samples"]
    return figures


SAMPLE_COLUMNS = ["question", "gold", "completion", "reward"]


def sample_rows(groups, prompts: int = 8) -> list[list]:
    """The best and the worst completion of the cycle's first `prompts` prompts (once if the same)."""
    rows = []
    for group in (groups or [])[:prompts]:
        ranked = sorted(group, key=lambda c: c.reward)
        for c in {id(x): x for x in (ranked[-1], ranked[0])}.values():
            rows.append([c.sample.question, str(c.sample.answer), c.completion, round(c.reward, 4)])
    return rows


def collapse_warning(entry: dict) -> str | None:
    """What to say when a cycle's K samples per prompt were mostly the same completion, or None."""
    distinct, prompts = entry.get("distinct_per_prompt"), entry.get("num_prompts")
    k = entry["num_samples"] / prompts if prompts else 1
    if distinct is None or k <= 1 or distinct >= COLLAPSE:
        return None
    return (f"sampling has collapsed in cycle {entry['cycle']} ({distinct:.2f} distinct completions per prompt of "
            f"{k:g}); raise --temperature or lower --learning-rate")


class TensorBoardTracker:
    def __init__(self, output: Path):
        from torch.utils.tensorboard import SummaryWriter

        self.runs = output / "runs"
        self.writer = SummaryWriter(log_dir=str(self.runs))

    def cycle(self, entry: dict, groups=None) -> None:
        step = entry["cycle"]
        for name, value in cycle_figures(entry).items():
            self.writer.add_scalar(f"cycle/{name}", value, step)
        if rows := sample_rows(groups):
            table = ["| " + " | ".join(SAMPLE_COLUMNS) + " |", "|---|---|---|---|"]
            for question, gold, completion, reward in rows:
                text = completion.replace("|", "\\|").replace("\n", " ")
                table.append(f"| {question[:60]} | {gold} | {text[:120]} | {reward:.3f} |")
            self.writer.add_text("samples", "\n".join(table), step)
        if warning := collapse_warning(entry):
            self.writer.add_text("warnings", warning, step)
        self.writer.flush()

    def finetune_callbacks(self, cycle: int) -> list:
        """The Trainer's own TensorBoard reporting of each fine-tune step's loss, one folder per cycle."""
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        return [TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(self.runs / f"finetune_cycle_{cycle}")))]

    def close(self) -> None:
        self.writer.close()


class RunTracker(ABC):
    """What wandb and trackio share: a run that takes dicts of figures and tables."""

    def __init__(self, steps_done: int):
        self.steps_done = steps_done  # fine-tune steps logged by earlier cycles (and earlier starts)

    @abstractmethod
    def log(self, figures: dict, step: int, axis: str) -> None:
        """Log `figures` at `step` of the step `axis` they are plotted against."""

    @abstractmethod
    def table(self, rows: list[list]):
        """The tracker's table object for SAMPLE_COLUMNS rows."""

    @abstractmethod
    def warn(self, text: str) -> None:
        """Raise an alert on the run."""

    @abstractmethod
    def close(self) -> None: ...

    def cycle(self, entry: dict, groups=None) -> None:
        figures = {f"cycle/{k}": v for k, v in cycle_figures(entry).items()}
        if rows := sample_rows(groups):
            figures["cycle/samples"] = self.table(rows)
        self.log(figures, entry["cycle"], "cycle/cycle")
        if warning := collapse_warning(entry):
            self.warn(warning)

    def finetune_callbacks(self, cycle: int) -> list:
        from transformers import TrainerCallback

        tracker = self

        class StepFigures(TrainerCallback):
            """Each logged fine-tune step (loss, gradient norm, learning rate) on the run's step axis."""

            def on_log(self, args, state, control, logs=None, **kwargs):
                figures = {f"finetune/{k}": v for k, v in (logs or {}).items()
                           if isinstance(v, (int, float)) and not k.startswith("train_") and k != "total_flos"}
                if figures:
                    tracker.log(figures, tracker.steps_done + state.global_step, "finetune/step")

            def on_train_end(self, args, state, control, **kwargs):
                tracker.steps_done += state.global_step

        return [StepFigures()]


class WandbTracker(RunTracker):
    def __init__(self, output: Path, project: str, settings: dict, steps_done: int):
        super().__init__(steps_done)
        import wandb
        from wandb.errors import Error

        folder = output / "runs"
        folder.mkdir(parents=True, exist_ok=True)
        id_file = folder / "wandb_run_id"  # the same wandb run on resume
        if not id_file.is_file():
            id_file.write_text(secrets.token_hex(4))
        self.wandb = wandb
        try:
            self.run = wandb.init(project=project, name=output.resolve().name, id=id_file.read_text().strip(),
                                  resume="allow", dir=str(folder), config=settings)
        except Error as exc:
            raise HaloForgeError(f"--report-to wandb could not start a run ({exc}); run `wandb login`, or set "
                                 f"WANDB_MODE=offline to log under {folder}.") from None
        for axis in ("cycle/cycle", "finetune/step"):
            self.run.define_metric(axis)
            self.run.define_metric(axis.split("/")[0] + "/*", step_metric=axis)

    def log(self, figures: dict, step: int, axis: str) -> None:
        self.run.log({**figures, axis: step})

    def table(self, rows):
        return self.wandb.Table(columns=SAMPLE_COLUMNS, data=rows)

    def warn(self, text: str) -> None:
        self.run.alert(title="sampling collapsed", text=text)

    def close(self) -> None:
        self.run.finish()


class TrackioTracker(RunTracker):
    def __init__(self, output: Path, project: str, settings: dict, steps_done: int):
        super().__init__(steps_done)
        import trackio

        self.trackio = trackio
        trackio.init(project=project, name=output.resolve().name, config=settings, resume="allow", embed=False,
                     auto_log_cpu=False, auto_log_gpu=False)

    def log(self, figures: dict, step: int, axis: str) -> None:
        self.trackio.log(figures, step=step)  # each figure is its own series; the step is the axis

    def table(self, rows):
        return self.trackio.Table(columns=SAMPLE_COLUMNS, data=rows)

    def warn(self, text: str) -> None:
        self.trackio.alert(title="sampling collapsed", text=text, level=self.trackio.AlertLevel.WARN)

    def close(self) -> None:
        self.trackio.finish()


def make_tracker(report_to: str, output: Path, project: str = "halo-forge", settings: dict | None = None,
                 steps_done: int = 0):
    """The tracker `report_to` names ("auto": TensorBoard when installed), or None. `steps_done`:
    fine-tune steps earlier cycles logged, so a resumed run's step axis continues."""
    if report_to == "none" or (report_to == "auto" and missing_package("tensorboard")):
        return None
    report_to = "tensorboard" if report_to == "auto" else report_to
    if package := missing_package(report_to):
        raise HaloForgeError(f"--report-to {report_to} needs the {package} package: pip install {package}.")
    if report_to == "tensorboard":
        return TensorBoardTracker(output)
    tracker = {"wandb": WandbTracker, "trackio": TrackioTracker}[report_to]
    return tracker(output, project, settings or {}, steps_done)
