"""Shared fixtures: a tiny Qwen2-VL built offline once per session."""

import os
import tempfile

import pytest
import torch

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests must never reach a hub
# trackio reads its store's folder once, when imported: a throwaway one, not the user's.
os.environ["TRACKIO_DIR"] = tempfile.mkdtemp(prefix="halo-forge-trackio-")
torch.set_num_threads(1)  # on 2 cores one thread is steadier than two


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from halo_forge.vlm.models.tiny import build_tiny_model

    return build_tiny_model("qwen2_vl", tmp_path_factory.mktemp("tiny") / "qwen2_vl")


@pytest.fixture(scope="session")
def tiny_loaded(tiny_model_dir):
    from halo_forge.vlm.models.loading import load_model

    return load_model(str(tiny_model_dir))
