"""`vlm report --html`: a self-contained page with the curves and a gallery, checked as a browser
renders it (Debian's headless Chromium; `.ci/run` installs it and requires this test to run)."""

import os
import re
import shutil
import subprocess

import numpy as np
import pytest
from PIL import Image

from halo_forge import cli
from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.trainer import VLMRAFTTrainer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def run(tiny_model_dir, tmp_path_factory):
    output = tmp_path_factory.mktemp("report") / "run"
    VLMRAFTTrainer(VLMRAFTConfig(
        model_name=str(tiny_model_dir), dataset="synthetic", output_dir=str(output), num_cycles=2, limit=8,
        eval_limit=8, samples_per_prompt=2, temperature=1.0, max_new_tokens=3, reward_threshold=0.1,
        learning_rate=1e-3, finetune_batch_size=4, gradient_checkpointing=False,
    )).train()
    return output


def test_report_html_is_self_contained_with_curves_and_a_gallery(run, capsys):
    assert cli.main(["vlm", "report", str(run), "--html"]) == 0
    assert f"report: {run / 'report.html'}" in " ".join(capsys.readouterr().out.split())
    page = (run / "report.html").read_text()
    assert page.count("<svg") == 6 and "held-out accuracy vs reward" in page and "time per phase" in page
    assert page.count('class="card"') == 16  # 8 prompts x 2 cycles, each with its image inline
    assert page.count('src="data:image/jpeg;base64,') == 16
    assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing fetched from a network
    assert "reasoning_weight" in page  # the settings


def test_report_html_goes_where_asked(run, tmp_path, capsys):
    page = tmp_path / "elsewhere" / "demo.html"
    page.parent.mkdir()
    assert cli.main(["vlm", "report", str(run), "--html", str(page)]) == 0
    assert f"report: {page}" in " ".join(capsys.readouterr().out.split())
    assert page.read_text().count('class="card"') == 16


@pytest.mark.skipif(not CHROMIUM and not os.environ.get("HALO_FORGE_REQUIRE_CHROMIUM"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_report_renders_in_chromium(run, tmp_path):
    from halo_forge.vlm.report import write_html

    page = write_html(run)
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM or "chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", f"--screenshot={shot}",
                    "--window-size=1280,1400", page.as_uri()], check=True, capture_output=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.std() > 20  # not a blank page
    top, bottom = pixels[:700], pixels[700:]
    assert (top < 128).mean() > 0.01 and (bottom < 250).mean() > 0.05  # curves drawn above, cards below
