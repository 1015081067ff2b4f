"""The bad-input matrix: each wrong file, flag or value costs the user one sentence (or a skipped
and counted row) and nothing else. Every case runs the real command line in-process and checks
the exit code, that the error is one line without a traceback, and that nothing was lost."""

import json
import os
import struct
import zlib

import pytest
from PIL import Image

from halo_forge import cli
from halo_forge.vlm.data.images import decode


def run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def one_line(err: str) -> str:
    """The error, asserted to be one line that is not a traceback."""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in err, err
    return lines[0]


def png(path, size=(32, 32), color="red"):
    Image.new("RGB", size, color).save(path)
    return path


def png_header_only(path, width, height):
    """A PNG that declares width x height but holds one byte of data (a decompression bomb's shape)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0")) +
                     chunk(b"IEND", b""))
    return path


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# -- JSONL rows: skipped and counted, the reason named ------------------------------------------


ROWS = {
    "a JSON list, not an object": lambda d: '["img.png", "q", "a"]',
    "image must be a path, got 5": lambda d: json.dumps({"image": 5, "question": "q", "answers": ["a"]}),
    "not UTF-8 text": lambda d: '{"image": "img.png", "question": "caf\xe9", "answers": ["a"]}',
    "aspect ratio over 200": lambda d: json.dumps(
        {"image": png(d / "wide.png", (4000, 1)).name, "question": "q", "answers": ["a"]}),
    "too small": lambda d: json.dumps({"image": png(d / "dot.png", (3, 3)).name, "question": "q", "answers": ["a"]}),
    "answers must be text or a non-empty list": lambda d: json.dumps({"image": "img.png", "question": "q",
                                                                       "answers": []}),
    "lies outside the dataset's folder": lambda d: json.dumps(
        {"image": "../" + png(d.parent / "outside.png").name, "question": "q", "answers": ["a"]}),
    "not a regular file": lambda d: (os.mkfifo(d / "pipe.png"),
                                     json.dumps({"image": "pipe.png", "question": "q", "answers": ["a"]}))[1],
    "unreadable": lambda d: ((d / "truncated.png").write_bytes(png(d / "full.png").read_bytes()[:40]),
                             json.dumps({"image": "truncated.png", "question": "q", "answers": ["a"]}))[1],
}


@pytest.mark.parametrize("reason", ROWS)
def test_a_bad_jsonl_row_is_skipped_and_counted(reason, tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    png(data / "img.png")
    good = json.dumps({"image": "img.png", "question": "What colour?", "answers": ["red"]})
    bad = ROWS[reason](data)
    encoding = "latin-1" if reason == "not UTF-8 text" else "utf-8"
    (data / "rows.jsonl").write_bytes(f"{good}\n{bad}\n".encode(encoding))
    code, out, err = run(capsys, "vlm", "benchmark", "--model", tiny_model_dir, "--dataset", data / "rows.jsonl",
                         "--max-new-tokens", 2)
    assert code == 0 and not err, err
    text = " ".join(out.split())
    assert f"skipped 1 row(s) of {data / 'rows.jsonl'} (line 2: " in text and reason in text, text


def test_bad_training_rows_are_skipped_and_the_run_goes_on(tiny_model_dir, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    rows = []
    for i, color in enumerate(["red", "blue", "green", "yellow"] * 2):
        png(data / f"{i}.png", (32 + i, 32), color)
        rows.append({"image": f"{i}.png", "question": "What colour?", "answers": [color],
                     "split": "train" if i < 6 else "validation"})
    png(data / "wide.png", (4000, 1))
    os.mkfifo(data / "pipe.png")
    rows += [{"image": "wide.png", "question": "q", "answers": ["a"], "split": "train"},
             {"image": "pipe.png", "question": "q", "answers": ["a"], "split": "train"}]
    (data / "rows.jsonl").write_text("\n".join(json.dumps(r) for r in rows))
    code, out, err = run(capsys, "vlm", "train", "--model", tiny_model_dir, "--dataset", data / "rows.jsonl",
                         "--output", tmp_path / "run", "--cycles", 1, "--samples-per-prompt", 2, "--max-new-tokens", 2,
                         "--no-gradient-checkpointing")
    assert code == 0, err
    assert "skipped 2 row(s)" in " ".join(out.split())
    assert json.loads((tmp_path / "run" / "training_history.json").read_text())[-1]["num_prompts"] == 6


def test_images_are_downscaled_to_the_budget_as_they_decode(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (4000, 3000), "blue").save(photo)  # 12 megapixels
    image = decode(photo, max_pixels=1024 * 28 * 28)
    assert image.width * image.height <= 1024 * 28 * 28 and abs(image.width / image.height - 4 / 3) < 0.01


# -- vlm verify ----------------------------------------------------------------------------------


@pytest.mark.parametrize("image, reason", [
    (lambda d: png_header_only(d / "bomb.png", 20000, 20000), "too large to decode safely"),  # PIL's own limit
    (lambda d: png_header_only(d / "huge.png", 9000, 9000), "9000x9000 pixels is over 64x the pixel budget"),
    (lambda d: (d / "empty.png").write_bytes(b"") and None or d / "empty.png", "unreadable"),
    (lambda d: ((d / "cut.png").write_bytes(png(d / "ok.png").read_bytes()[:60]), d / "cut.png")[1], "unreadable"),
    (lambda d: d / "missing.png", "file not found"),
])
def test_verify_names_an_unusable_image(image, reason, tmp_path, capsys):
    path = image(tmp_path)
    code, _, err = run(capsys, "vlm", "verify", "--image", path, "--prompt", "q", "--completion", "red",
                       "--answer", "red")
    assert code == 2 and f"Image '{path}' cannot be used" in one_line(err) and reason in err


def test_verify_refuses_unknown_metrics_and_negative_weights(tmp_path, capsys):
    image = png(tmp_path / "img.png")
    common = ["vlm", "verify", "--image", image, "--prompt", "q", "--completion", "red", "--answer", "red"]
    code, _, err = run(capsys, *common, "--metric", "bogus")
    assert code == 2 and "Unknown metric 'bogus'" in one_line(err)
    code, _, err = run(capsys, *common, "--output-weight", -1)
    assert code == 2 and "output_weight must be at least 0.0, got -1.0" in one_line(err)


def test_pickled_detector_weights_need_allow_pickle(tmp_path, capsys):
    weights = tmp_path / "yolov8n.pt"
    weights.write_bytes(b"not really a pickle")
    code, _, err = run(capsys, "vlm", "verify", "--image", png(tmp_path / "i.png"), "--prompt", "q",
                       "--completion", "red", "--answer", "red", "--detector", "yolo", "--yolo-weights", weights)
    assert code == 2 and "are a pickle, which can run any code" in one_line(err) and "--allow-pickle" in err
    code, _, err = run(capsys, "vlm", "train", "--detector", "yolo", "--yolo-weights", "yolov8n.pt", "--dry-run")
    assert code == 2 and "not a local file (halo-forge never downloads them)" in one_line(err)


# -- YAML ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, message", [
    ("num_cycles: three\n", "num_cycles must be an integer, got 'three'"),
    ("learning_rate: fast\n", "learning_rate must be a number, got 'fast'"),
    ("num_cycles:\n", "num_cycles needs a value (an integer)"),
    ("num_cycles: 2.5\n", "num_cycles must be an integer, got 2.5"),
    ("seed: [1, 2\n", "is not valid YAML"),
    ("- just\n- a list\n", "must hold a mapping"),
    ("learning_rate: .nan\n", "learning_rate must be a finite number"),
])
def test_a_bad_yaml_value_is_one_sentence_naming_the_key(text, message, tmp_path, capsys):
    (tmp_path / "run.yaml").write_text(text)
    code, _, err = run(capsys, "vlm", "train", "--config", tmp_path / "run.yaml", "--dry-run")
    assert code == 2 and message in one_line(err)


def test_yaml_reads_the_specifications_learning_rate_as_a_number(tmp_path, capsys):
    (tmp_path / "run.yaml").write_text("learning_rate: 5e-5\nnum_cycles: '3'\n")  # PyYAML reads 5e-5 as a string
    code, out, _ = run(capsys, "vlm", "train", "--config", tmp_path / "run.yaml", "--dry-run", "--model", "x/y")
    assert code == 0 and "1: 5.00e-05, 2: 4.25e-05, 3: 3.61e-05" in " ".join(out.split())


# -- flags -------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["vlm", "benchmark", "--batch-size", 0], "batch_size must be at least 1, got 0"),
    (["vlm", "benchmark", "--max-new-tokens", 0], "max_new_tokens must be at least 1, got 0"),
    (["vlm", "sft", "--epochs", -1], "epochs must be positive, got -1.0"),
    (["vlm", "sft", "--lora-dropout", 1.5], "lora_dropout must be below 1"),
    (["vlm", "train", "--dry-run", "--learning-rate", "inf"], "learning_rate must be a finite number, got inf"),
    (["vlm", "train", "--dry-run", "--split", "nope"], "dataset 'synthetic' has no split 'nope'"),
    (["vlm", "train", "--dry-run", "--eval-split", "nope"], "has no split 'nope' to evaluate on"),
    (["vlm", "train", "--dry-run", "--full-finetune", "--dtype", "fp16"], "fp16 full fine-tuning overflows"),
    (["vlm", "train", "--dry-run", "--eval-limit", 0], "eval_limit must be at least 1"),
    (["vlm", "train", "--dry-run", "--dataset", "missing.jsonl"], "JSONL dataset 'missing.jsonl' does not exist"),
])
def test_a_bad_flag_is_one_sentence_before_anything_loads(argv, message, tmp_path, capsys):
    code, _, err = run(capsys, *argv, *([] if "--dry-run" in argv else ["--output", tmp_path / "o"]))
    assert code == 2 and message in one_line(err)
    assert not (tmp_path / "o").exists()


def test_benchmark_output_that_is_a_folder_is_refused(tmp_path, capsys):
    code, _, err = run(capsys, "vlm", "benchmark", "--output", tmp_path)
    assert code == 2 and f"output '{tmp_path}' is a folder" in one_line(err)


# -- --output ------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["train", "sft"])
def test_output_that_is_not_a_run_folder_is_refused_and_kept(command, tiny_model_dir, tmp_path, capsys):
    (tmp_path / "file").write_text("mine")
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.tex").write_text("mine")
    (tmp_path / "thesis" / "cycle_1").mkdir()  # a run's shape, but no run record
    before = snapshot(tmp_path)
    common = ["vlm", command, "--model", tiny_model_dir, "--limit", 4, "--eval-limit", 2]
    for output, message in [(tmp_path / "file", "is a file"), (tmp_path / "file" / "run", "part of that path is a file"),
                            (tmp_path / "thesis", "is not empty and holds no halo-forge run"),
                            ("/sys/halo-forge-run", "cannot be created (")]:
        code, _, err = run(capsys, *common, "--output", output)
        assert code == 2 and message in one_line(err), err
    assert snapshot(tmp_path) == before


# -- vlm report ----------------------------------------------------------------------------------


@pytest.mark.parametrize("history, message", [
    ('[{"cycle": 0, "eval_acc', "is not valid JSON"),
    ("[]", "holds no cycles"),
    ('[{"eval_accuracy": 0.5}]', "entry 0 is not a cycle entry"),
])
def test_report_on_a_damaged_history_is_one_sentence(history, message, tmp_path, capsys):
    (tmp_path / "training_history.json").write_text(history)
    code, _, err = run(capsys, "vlm", "report", tmp_path)
    assert code == 2 and message in one_line(err)


def test_report_leaves_missing_or_null_figures_blank(tmp_path, capsys):
    history = [{"cycle": 0, "eval_accuracy": 0.5}, {"cycle": 1, "eval_accuracy": 0.6, "mean_reward": None},
               {"cycle": 2, "eval_accuracy": 0.7}]
    (tmp_path / "training_history.json").write_text(json.dumps(history))
    code, out, err = run(capsys, "vlm", "report", tmp_path)
    assert code == 0 and not err and "+20.0 points after 2 cycles" in out


# -- how errors are printed ----------------------------------------------------------------------


def test_user_text_is_printed_literally(tmp_path, capsys):
    code, _, err = run(capsys, "vlm", "verify", "--image", tmp_path / "[bold]x[/bold] [/tag].png", "--prompt", "q",
                       "--completion", "c", "--answer", "a")
    assert code == 2 and "[bold]x[/bold] [/tag].png" in one_line(err)


def test_an_unexpected_error_is_one_line_and_debug_shows_the_traceback(monkeypatch, capsys):
    def broken(args):
        raise RuntimeError("something\nunforeseen")

    monkeypatch.setattr(cli, "cmd_datasets", broken)
    code, _, err = run(capsys, "vlm", "datasets")
    assert code == 1 and one_line(err) == ("error: RuntimeError: something unforeseen "
                                           "(run with --debug for the traceback)")
    with pytest.raises(RuntimeError):
        cli.main(["--debug", "vlm", "datasets"])


def test_custom_model_code_needs_trust_remote_code(tiny_model_dir, tmp_path, capsys):
    import shutil

    model = tmp_path / "custom"
    shutil.copytree(tiny_model_dir, model)
    config = json.loads((model / "config.json").read_text())
    config.update(model_type="custom_vlm", auto_map={"AutoConfig": "configuration_x.XConfig"})
    (model / "config.json").write_text(json.dumps(config))
    code, _, err = run(capsys, "vlm", "benchmark", "--model", model, "--limit", 1)
    assert code == 2 and "ships its own model code" in one_line(err) and "--trust-remote-code" in err


def test_warnings_that_matter_are_shown_once_not_suppressed():
    import warnings

    import transformers

    verbosity = transformers.utils.logging.get_verbosity()
    try:
        with warnings.catch_warnings(record=True) as caught:
            cli._quiet_libraries()
            for _ in range(3):
                warnings.warn("Some weights of the model were not initialized", UserWarning)
                warnings.warn("Image size exceeds limit, could be decompression bomb", Image.DecompressionBombWarning)
        assert sorted(str(w.message)[:4] for w in caught) == ["Imag", "Some"]
        assert transformers.utils.logging.get_verbosity() == transformers.utils.logging.WARNING
    finally:
        transformers.utils.logging.set_verbosity(verbosity)  # the rest of the suite keeps its own
