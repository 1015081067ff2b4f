"""Every loader on fixture files in the real hub schemas (tests/fixtures/hub), and local JSONL."""

import json
from pathlib import Path

import pytest
from PIL import Image

from halo_forge.errors import HaloForgeError
from halo_forge.vlm.data.images import ArrowImage
from halo_forge.vlm.data.registry import get_spec, load_run_data, load_samples

HUB = Path(__file__).parent / "fixtures" / "hub"


def local(name, split=None, limit=None, **kwargs):
    return load_samples(name, split, limit, path=str(HUB / name), **kwargs)


def test_textvqa_rows_become_samples_and_a_corrupt_image_is_skipped_and_counted():
    train = local("textvqa", "train")
    assert len(train) == 4
    s = train[0]
    assert isinstance(s.image, ArrowImage)  # a reference into the memory-mapped table, decoded on use
    assert isinstance(s.load_image(), Image.Image) and s.load_image().mode == "RGB"
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
    assert isinstance(samples[0].load_image(), Image.Image)
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


def write_jsonl(folder, rows, name="data.jsonl"):
    (folder / name).write_text("\n".join(json.dumps(x) for x in rows) + "\n")
    return str(folder / name)


def jsonl_with_shared_images(folder, images=40, questions=3):
    """`images` distinct pictures, each asked `questions` questions (as in TextVQA or DocVQA)."""
    rows = []
    for i in range(images):
        Image.new("RGB", (20, 20), (i * 5, 100, 200)).save(folder / f"img{i}.png")
        rows += [{"image": f"img{i}.png", "question": f"q{i}-{k}", "answer": str(i)} for k in range(questions)]
    return rows


def test_jsonl_is_held_out_by_image_not_by_line_and_a_missing_image_is_skipped(tmp_path):
    rows = jsonl_with_shared_images(tmp_path)
    rows[3] = {"image": "missing.png", "prompt": "q", "answers": ["x"]}
    messages = []
    data = load_run_data(write_jsonl(tmp_path, rows), on_skip=messages.append)
    train_images = {str(s.image) for s in data.train}
    held_images = {str(s.image) for s in data.held_out}
    assert held_images and not train_images & held_images  # no image on both sides
    assert len(data.train) + len(data.held_out) == len(rows) - 1
    assert any("skipped 1 row(s)" in m for m in messages)
    assert "partitioned by image" in data.policy


def test_jsonl_rows_that_name_their_split(tmp_path):
    rows = jsonl_with_shared_images(tmp_path, images=6, questions=1)
    for i, row in enumerate(rows):
        row["split"] = "test" if i >= 4 else "train"
    file = write_jsonl(tmp_path, rows)
    spec = get_spec(file)
    assert (spec.train_split, spec.eval_split) == ("train", "test") and not spec.partitioned
    data = load_run_data(file)
    assert [s.question for s in data.held_out] == ["q4-0", "q5-0"] and len(data.train) == 4
    with pytest.raises(HaloForgeError, match="has no split 'validation'; it has train, test"):
        load_samples(file, "validation")
    rows[0].pop("split")
    with pytest.raises(HaloForgeError, match="line 1 has no \"split\""):
        get_spec(write_jsonl(tmp_path, rows, "mixed.jsonl"))


def test_a_separate_eval_file(tmp_path):
    rows = jsonl_with_shared_images(tmp_path, images=5, questions=2)
    train_file = write_jsonl(tmp_path, rows[:6], "train.jsonl")
    eval_file = write_jsonl(tmp_path, rows[6:], "eval.jsonl")
    data = load_run_data(train_file, eval_dataset=eval_file)
    assert len(data.train) == 6 and [s.question for s in data.held_out] == ["q3-0", "q3-1", "q4-0", "q4-1"]


def hub_copy(tmp_path, name, split, images=30, questions=2):
    """A local copy of `name` in its hub schema, `images` documents asked `questions` questions each."""
    from fixtures.make_hub_fixtures import docvqa_rows, write_rows

    write_rows(tmp_path / name, name, split, docvqa_rows(images, questions))
    return str(tmp_path / name)


@pytest.mark.parametrize("limit", [None, 10])
def test_a_single_answered_split_is_partitioned_by_image_never_evaluated_on_training_rows(tmp_path, limit):
    path = hub_copy(tmp_path, "docvqa", "validation")
    data = load_run_data("docvqa", path=path, limit=limit, eval_limit=limit)
    key = lambda s: s.load_image().tobytes()  # noqa: E731
    assert data.held_out and data.train
    assert not {key(s) for s in data.train} & {key(s) for s in data.held_out}
    assert not {s.id for s in data.train} & {s.id for s in data.held_out}
    everything = load_samples("docvqa", "validation", path=path)
    assert len(data.held_out) < 0.45 * len(everything)  # about a fifth of the images
    assert "partitioned by image, 20%" in data.policy


def test_the_same_split_named_twice_is_partitioned_too():
    data = load_run_data("synthetic", split="validation", eval_split="validation", limit=100, eval_limit=100)
    assert not {s.load_image().tobytes() for s in data.train} & {s.load_image().tobytes() for s in data.held_out}
    assert "partitioned by image" in data.policy


def test_realworldqa_options_are_read_from_the_question():
    sample = local("realworldqa", "test")[0]
    assert sample.annotations["choices"] == ["left", "right"]


def test_jsonl_rows_without_answers_are_skipped_and_named(tmp_path):
    (tmp_path / "bad.jsonl").write_text('{"image": "x.png", "question": "q"}\n')
    notes = []
    assert load_samples(str(tmp_path / "bad.jsonl"), on_skip=notes.append) == []
    assert notes == [f"skipped 1 row(s) of {tmp_path / 'bad.jsonl'} (line 1: missing answers)"]


@pytest.mark.parametrize("name, split", [("docvqa", "validation"), ("realworldqa", "test"), ("mathvista", "testmini")])
def test_datasets_with_one_answered_split_train_and_evaluate_on_disjoint_images(name, split):
    spec = get_spec(name)
    assert (spec.train_split, spec.eval_split, spec.held_out_fraction) == (split, split, 0.2)
    data = load_run_data(name, path=str(HUB / name))
    assert not {s.load_image().tobytes() for s in data.train} & {s.load_image().tobytes() for s in data.held_out}
    assert len(data.train) + len(data.held_out) == len(local(name, split))  # every row lands on one side
