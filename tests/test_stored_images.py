"""A fine-tune's rows keep the source's encoded image bytes where they decode to exactly the pixels
the rollout saw, and otherwise store the decoded (downscaled, RGB) image: never the original file
of an image the rollout saw downscaled."""

import io

import numpy as np
from PIL import Image

from halo_forge.vlm.data.images import ArrowImage, decode, stored
from halo_forge.vlm.data.sample import VLMSample
from halo_forge.vlm.finetune import training_rows


def _encoded(size=(64, 48), mode="RGB", fmt="JPEG") -> bytes:
    pixels = np.random.default_rng(0).integers(0, 255, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).convert(mode).save(buffer, format=fmt)
    return buffer.getvalue()


def _pixels(cell: dict) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(cell["bytes"])).convert("RGB"))


def test_source_bytes_are_kept_when_they_decode_to_the_same_pixels(tmp_path):
    jpeg = _encoded()
    assert stored({"bytes": jpeg, "path": None}, max_pixels=64 * 48)["bytes"] == jpeg
    (tmp_path / "a.jpg").write_bytes(jpeg)
    assert stored(str(tmp_path / "a.jpg"), max_pixels=None)["bytes"] == jpeg


def test_an_image_over_the_budget_is_stored_as_the_rollout_saw_it(tmp_path):
    (tmp_path / "big.jpg").write_bytes(_encoded(size=(400, 300)))
    cell = stored(str(tmp_path / "big.jpg"), max_pixels=100 * 75)
    seen = decode(str(tmp_path / "big.jpg"), max_pixels=100 * 75)
    assert cell["bytes"][:8] == b"\x89PNG\r\n\x1a\n"  # re-encoded, losslessly
    assert np.array_equal(_pixels(cell), np.asarray(seen)) and seen.size[0] * seen.size[1] <= 100 * 75


def test_a_non_rgb_source_and_an_in_memory_image_are_stored_as_rgb_png():
    grey = _encoded(mode="L", fmt="PNG")
    cell = stored({"bytes": grey, "path": None})
    assert cell["bytes"] != grey and Image.open(io.BytesIO(cell["bytes"])).mode == "RGB"
    image = Image.new("RGB", (32, 32), (200, 10, 10))
    assert np.array_equal(_pixels(stored(image)), np.asarray(image))


def test_training_rows_carry_the_source_bytes_of_a_hub_row(tiny_loaded):
    jpeg = _encoded()
    table = [{"image": {"bytes": jpeg, "path": None}}]  # rows by index, as a `datasets.Dataset` gives them
    sample = VLMSample(id="0", image=ArrowImage(table, 0, "image"), question="what?", answers=["x"], max_pixels=10_000)
    rows = training_rows(tiny_loaded, [(sample, "x")])
    assert rows.data.column("images")[0].as_py()[0]["bytes"] == jpeg  # not encoded again
    assert np.array_equal(np.asarray(rows[0]["images"][0].convert("RGB")), np.asarray(sample.load_image()))
