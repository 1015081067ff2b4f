"""Dependency hygiene: the default install pulls no optional tool, and every extra shares one OpenCV
wheel (two OpenCV wheels install the same `cv2` package over each other)."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

PYPROJECT = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _closure(names) -> set[str]:
    """The installed distributions `names` pull in, themselves included."""
    seen, todo = set(), list(names)
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen


def test_the_default_install_pulls_no_optional_tool():
    default = {_name(r) for r in PYPROJECT["project"]["dependencies"]}
    optional = {"rapidocr", "easyocr", "tesserocr", "ultralytics", "sentence-transformers", "tensorboard", "wandb",
                "trackio", "opencv-python", "opencv-python-headless", "onnxruntime"}
    assert not _closure(default) & optional


def test_every_installed_extra_uses_the_headless_opencv_wheel_only():
    extras = PYPROJECT["project"]["optional-dependencies"]
    pulled = _closure({_name(r) for group in extras.values() for r in group})
    opencv = {name for name in pulled if name.startswith("opencv")}
    assert "opencv-python-headless" in opencv  # installed here, through rapidocr
    assert opencv == {"opencv-python-headless"}, opencv
