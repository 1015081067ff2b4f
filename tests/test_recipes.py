"""Every recipe under examples/recipes/ passes its own `--dry-run` plan, and the plan says its
settings fit the GPUs the recipe names (the `# plan:` and `# fits:` lines at its top)."""

import re
import shlex
from pathlib import Path

import pytest

from halo_forge import cli

RECIPES = sorted((Path(__file__).parent.parent / "examples" / "recipes").glob("*.yaml"))


def header(recipe: Path, key: str) -> str:
    return re.search(rf"^# {key}:\s+(.*)$", recipe.read_text(), re.MULTILINE).group(1)


def test_one_recipe_per_published_size():
    sizes = {re.match(r"qwen2-vl-(\d+b)", r.name).group(1) for r in RECIPES if r.name.startswith("qwen2-vl-")}
    assert {"2b", "7b", "72b"} <= sizes


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda r: r.stem)
def test_recipe_plans_and_fits(recipe, capsys, monkeypatch):
    monkeypatch.chdir(recipe.parent.parent.parent)
    argv = shlex.split(header(recipe, "plan"))
    assert argv[:2] == ["halo-forge", "vlm"] and "--dry-run" in argv
    assert cli.main(argv[1:]) == 0
    text = " ".join(capsys.readouterr().out.split())
    assert f"{header(recipe, 'fits')}:" in text and "which fits" in text.split(header(recipe, "fits"))[1][:40], text
    assert header(recipe, "run").split()[0] in ("halo-forge", "accelerate")
