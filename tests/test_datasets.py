"""Every loader on fixture files in the real hub schemas (tests/fixtures/hub), and local JSONL."""

import json
from pathlib import Path

import pytest
from PIL import Image

from halo_forge.errors import HaloForgeError
from halo_forge.vlm.data.registry import get_spec, load_samples

HUB = Path(__file__).parent / "fixtures" / "hub"


def local(name, split=None, limit=None, **kwargs):
    return load_samples(name, split, limit, path=str(HUB / name), **kwargs)


def test_textvqa_rows_become_samples_and_a_corrupt_image_is_skipped_and_counted():
    train = local("textvqa", "train")
    assert len(train) == 4
    s = train[0]
    assert isinstance(s.image, Image.Image) and s.image.mode == "RGB"
    assert len(s.answers) == 10 and s.annotations["ocr_tokens"] == ["stop"]
    assert s.id == "1000" and s.question.startswith("what does the sign say?\nAnswer the question")
    messages = []
    assert len(local("textvqa", "validation", on_skip=messages.append)) == 3
    assert messages and "skipped 1 row(s)" in messages[0]


def test_limit_streams_only_what_it_needs():
    assert len(local("textvqa", "train", limit=2)) == 2
    assert local("textvqa", "train", limit=0) == []


def test_split_without_answers_is_refused_clearly():
    with pytest.raises(HaloForgeError, match="no answers .* use 'train' or 'validation'"):
        local("textvqa", "test")
    assert len(local("textvqa", "test", require_answers=False)) == 2


@pytest.mark.parametrize(
    "name, split, answers, metric",
    [
        ("docvqa", "validation", ["March 1, 1990", "march 1 1990"], "anls"),
        ("chartqa", "train", ["12"], "relaxed_accuracy"),
        ("realworldqa", "test", ["A"], "option_match"),
        ("mathvista", "testmini", ["3"], "mathvista"),
    ],
)
def test_each_loader_reads_its_schema(name, split, answers, metric):
    samples = local(name, split)
    assert samples and samples[0].answers == answers
    assert isinstance(samples[0].image, Image.Image)
    assert get_spec(name).metric == metric


def test_mathvista_keeps_what_its_metric_needs():
    multi = local("mathvista", "testmini")[1]
    assert multi.annotations["question_type"] == "multi_choice" and multi.annotations["choices"] == ["2", "5"]
    assert "Choices:" in multi.question  # the prompt is MathVista's `query`, hint and options included


def test_hub_without_network_is_one_sentence(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HaloForgeError, match="Could not load dataset 'textvqa' \\(lmms-lab/textvqa\\).*--dataset-path"):
        load_samples("textvqa", "validation", limit=1)


def test_bad_local_path():
    with pytest.raises(HaloForgeError, match="not a folder"):
        load_samples("textvqa", "train", path="/no/such/folder")
    with pytest.raises(HaloForgeError, match="no parquet files for split 'validation'"):
        load_samples("docvqa", "validation", path=str(HUB / "chartqa"))  # chartqa has no validation split files


def test_save_to_disk_folder(tmp_path):
    import datasets

    data = datasets.load_dataset("parquet", data_files={"val": str(HUB / "chartqa/data/val-00000-of-00001.parquet")})
    data.save_to_disk(str(tmp_path / "chartqa"))
    samples = load_samples("chartqa", "val", path=str(tmp_path / "chartqa"))
    assert [s.answers for s in samples] == [["12"], ["40.5"]]


def test_jsonl_dataset_with_held_out_rows_and_a_missing_image(tmp_path):
    Image.new("RGB", (20, 20), "red").save(tmp_path / "red.png")
    lines = [{"image": "red.png", "question": f"q{i}", "answer": "red"} for i in range(20)]
    lines[3] = {"image": "missing.png", "prompt": "q3", "answers": ["red"]}
    (tmp_path / "data.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    messages = []
    train = load_samples(str(tmp_path / "data.jsonl"), "train", on_skip=messages.append)
    held_out = load_samples(str(tmp_path / "data.jsonl"), "validation")
    assert len(train) == 17 and len(held_out) == 2  # rows 10 and 20 are held out; row 4 has no image
    assert "skipped 1 row(s)" in messages[0]
    assert {s.question for s in held_out} == {"q9", "q19"}


def test_jsonl_errors_name_the_line(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"image": "x.png", "question": "q"}\n')
    with pytest.raises(HaloForgeError, match="bad.jsonl line 1: missing answers"):
        load_samples(str(tmp_path / "bad.jsonl"), "train")
