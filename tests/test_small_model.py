"""`make-tiny-model --size small` learns questions about the image, not just the answer prior.

On generated shapes-VQA data (benchmarks/shape_vqa.py: 64x64 images, about three in four questions
yes/no, some negated, the rest colour and shape), a short CPU fine-tune must beat the best
question-only guess clearly. About three minutes on 2 cores; benchmarks/small_model.py compares
it with the tiny size.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
from shape_vqa import question_only_accuracy, write  # noqa: E402

import torch  # noqa: E402

from halo_forge.vlm.models.tiny import build_tiny_model  # noqa: E402
from halo_forge.vlm.sft import SFTOptions, run_sft  # noqa: E402


def test_the_small_size_learns_image_dependent_questions(tmp_path):
    data = write(tmp_path / "data", train=3000, test=300)
    prior = question_only_accuracy(data)
    model = build_tiny_model("qwen2_vl", tmp_path / "small", size="small")
    steps = 400
    try:  # both cores: the suite's one longest test, alone on the machine while it runs
        summary = run_sft(SFTOptions(model_name=str(model), dataset=str(data), output_dir=str(tmp_path / "sft"),
                                     full_finetune=True, learning_rate=3e-4, batch_size=32, epochs=steps * 32 / 3000,
                                     max_new_tokens=4, eval_limit=300, num_threads=2))
    finally:
        torch.set_num_threads(1)  # as conftest.py set it for every other test
    assert summary["eval_accuracy"] >= prior + 0.15, (summary["eval_accuracy"], prior)
