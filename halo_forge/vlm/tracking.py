"""Live run logging on TensorBoard: `tensorboard --logdir OUTPUT` while a run trains.

Per cycle (step = cycle number, under OUTPUT/runs/): held-out accuracy, hallucinated-claim rate
and reasoning share, mean reward, success rate, each stage's mean score, keep rate, learning rate,
distinct completions per prompt and token entropy, the fine-tune loss and each phase's seconds,
plus a text table of sampled completions with their rewards and a collapse warning. Per fine-tune
step, the Trainer's own TensorBoard callback writes the loss under OUTPUT/runs/finetune_cycle_N/.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import HaloForgeError

CHOICES = ("auto", "tensorboard", "none")


def tensorboard_available() -> bool:
    return importlib.util.find_spec("tensorboard") is not None


class TensorBoardTracker:
    def __init__(self, output: Path):
        from torch.utils.tensorboard import SummaryWriter

        self.runs = output / "runs"
        self.writer = SummaryWriter(log_dir=str(self.runs))

    def cycle(self, entry: dict, groups=None) -> None:
        """One cycle's figures, and a table of its first prompts' best and worst completions."""
        step = entry["cycle"]
        scalars = {k: v for k, v in entry.items() if k != "cycle" and isinstance(v, (int, float))
                   and not isinstance(v, bool)}
        scalars.update({f"stage_{k}": v for k, v in (entry.get("stage_scores") or {}).items() if v is not None})
        if entry.get("num_samples"):
            scalars["keep_rate"] = entry["num_kept"] / entry["num_samples"]
        for name, value in scalars.items():
            self.writer.add_scalar(f"cycle/{name}", value, step)
        if groups:
            rows = ["| question | gold | completion | reward |", "|---|---|---|---|"]
            for group in groups[:8]:
                ranked = sorted(group, key=lambda c: c.reward)
                for c in {id(x): x for x in (ranked[-1], ranked[0])}.values():
                    text = c.completion.replace("|", "\\|").replace("\n", " ")
                    rows.append(f"| {c.sample.question[:60]} | {c.sample.answer} | {text[:120]} | {c.reward:.3f} |")
            self.writer.add_text("samples", "\n".join(rows), step)
        if entry.get("distinct_per_prompt") is not None and entry["distinct_per_prompt"] < 1.5:
            self.writer.add_text("warnings", f"sampling collapsed: {entry['distinct_per_prompt']:.2f} distinct "
                                             f"completions per prompt", step)
        self.writer.flush()

    def finetune_callbacks(self, cycle: int) -> list:
        """The Trainer's own TensorBoard reporting of each fine-tune step's loss, one folder per cycle."""
        from torch.utils.tensorboard import SummaryWriter
        from transformers.integrations import TensorBoardCallback

        return [TensorBoardCallback(tb_writer=SummaryWriter(log_dir=str(self.runs / f"finetune_cycle_{cycle}")))]

    def close(self) -> None:
        self.writer.close()


def make_tracker(report_to: str, output: Path) -> TensorBoardTracker | None:
    """The tracker `report_to` names ("auto": TensorBoard when installed), or None."""
    if report_to == "none" or (report_to == "auto" and not tensorboard_available()):
        return None
    if not tensorboard_available():
        raise HaloForgeError("--report-to tensorboard needs the tensorboard package: pip install tensorboard.")
    return TensorBoardTracker(output)
