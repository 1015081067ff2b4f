import json
from pathlib import Path

import pytest

from halo_forge import cli
from halo_forge.errors import HaloForgeError
from halo_forge.vlm.benchmark import BenchmarkOptions, run_benchmark
from halo_forge.vlm.trainer import VLMRAFTConfig, VLMRAFTTrainer

HUB = Path(__file__).parent / "fixtures" / "hub"


@pytest.fixture(scope="module")
def run_dir(tiny_model_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    config = VLMRAFTConfig(
        model_name=str(tiny_model_dir), output_dir=str(out), num_cycles=1, limit=8, eval_limit=4,
        samples_per_prompt=2, temperature=1.0, max_new_tokens=3, reward_threshold=0.0, merge=True,
        gradient_checkpointing=False,
    )
    VLMRAFTTrainer(config).train()
    return out


@pytest.mark.parametrize("which", ["base", "adapter", "merged"])
def test_benchmark_takes_a_folder_an_adapter_cycle_or_a_merged_cycle(which, tiny_model_dir, run_dir, tmp_path):
    model = {"base": tiny_model_dir, "adapter": run_dir / "cycle_1", "merged": run_dir / "cycle_1" / "merged"}[which]
    out = tmp_path / "report.json"
    report = run_benchmark(BenchmarkOptions(model_name=str(model), dataset="synthetic", limit=6, max_new_tokens=3,
                                            output=str(out)))
    assert report["n"] == 6 and 0.0 <= report["score"] <= 1.0 and report["metric"] == "exact_match"
    saved = json.loads(out.read_text())
    assert saved["options"]["model_name"] == str(model)
    assert {"question", "prediction", "gold", "score", "completion"} <= saved["samples"][0].keys()
    assert saved["score"] == pytest.approx(sum(s["score"] for s in saved["samples"]) / 6)


def test_benchmark_on_a_local_copy_of_a_hub_dataset(tiny_model_dir):
    messages = []
    report = run_benchmark(BenchmarkOptions(model_name=str(tiny_model_dir), dataset="textvqa",
                                            dataset_path=str(HUB / "textvqa"), max_new_tokens=3), on_skip=messages.append)
    assert report["split"] == "validation" and report["metric"] == "vqa_accuracy" and report["n"] == 3
    assert "skipped 1 row(s)" in messages[0]


def test_nothing_to_score_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises(HaloForgeError, match="limit must be at least 1"):
        run_benchmark(BenchmarkOptions(model_name=str(tiny_model_dir), dataset="synthetic", limit=0))
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(HaloForgeError, match="gave no samples"):
        run_benchmark(BenchmarkOptions(model_name=str(tiny_model_dir), dataset=str(tmp_path / "empty.jsonl")))


def test_benchmark_a_named_split_of_a_jsonl_file_and_the_held_out_part(tiny_model_dir, tmp_path):
    from PIL import Image

    rows = []
    for i in range(6):
        Image.new("RGB", (28, 28), (40 * i, 0, 0)).save(tmp_path / f"{i}.png")
        rows.append({"image": f"{i}.png", "question": "What color?", "answer": "red", "split": "test" if i < 2 else "train"})
    (tmp_path / "named.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    report = run_benchmark(BenchmarkOptions(model_name=str(tiny_model_dir), dataset=str(tmp_path / "named.jsonl"),
                                            split="test", max_new_tokens=2))
    assert report["n"] == 2 and report["split"] == "test"
    with pytest.raises(HaloForgeError, match="--held-out applies where"):
        run_benchmark(BenchmarkOptions(model_name=str(tiny_model_dir), dataset="synthetic", held_out=True))
    notes = []
    report = run_benchmark(BenchmarkOptions(model_name=str(tiny_model_dir), dataset="synthetic", split="train",
                                            limit=3, max_new_tokens=2), on_skip=notes.append)
    assert report["n"] == 3 and not notes  # synthetic trains on its own split: nothing to warn about


def test_benchmark_cli_prints_the_table(tiny_model_dir, capsys):
    code = cli.main(["vlm", "benchmark", "--model", str(tiny_model_dir), "--dataset", "synthetic", "--limit", "4",
                     "--max-new-tokens", "3"])
    text = capsys.readouterr().out
    assert code == 0 and "exact_match" in text and "samples/s" in text


def test_held_out_part_of_a_partitioned_split(tiny_model_dir, tmp_path):
    from fixtures.make_hub_fixtures import docvqa_rows, write_rows

    write_rows(tmp_path / "docvqa", "docvqa", "validation", docvqa_rows(20, 1))
    options = dict(model_name=str(tiny_model_dir), dataset="docvqa", dataset_path=str(tmp_path / "docvqa"), max_new_tokens=2)
    notes = []
    whole = run_benchmark(BenchmarkOptions(**options), on_skip=notes.append)
    part = run_benchmark(BenchmarkOptions(**options, held_out=True))
    assert whole["n"] == 20 and 0 < part["n"] < 10
    assert any("pass --held-out" in n for n in notes)
