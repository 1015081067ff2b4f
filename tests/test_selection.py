from halo_forge.vlm.data.sample import VLMSample
from halo_forge.vlm.selection import ScoredCompletion, select_keep_set
from halo_forge.vlm.verifiers.result import VerifyResult


def group(name, rewards, completions=None):
    sample = VLMSample(id=name, image="x.png", question="q", answers=["a"])
    completions = completions or [f"{name}-{i}" for i in range(len(rewards))]
    return [ScoredCompletion(sample, c, VerifyResult(r, r >= 0.5, {})) for c, r in zip(completions, rewards)]


def test_threshold_and_per_prompt_cap():
    keep = select_keep_set([group("easy", [1.0, 1.0, 0.9, 0.2])], 0.5, 1.0, max_per_prompt=2)
    assert [c.completion for c in keep] == ["easy-0", "easy-1"]


def test_duplicate_completions_count_once():
    keep = select_keep_set([group("p", [1.0, 1.0, 1.0], ["red", "red", "red"])], 0.5, 1.0, max_per_prompt=2)
    assert [c.completion for c in keep] == ["red"]


def test_keep_percent_prefers_higher_reward_and_keeps_prompt_order_on_ties():
    easy = group("easy", [1.0, 1.0, 1.0, 1.0])
    hard = group("hard", [1.0, 0.0, 0.0, 0.0])
    middling = group("mid", [0.7, 0.0])
    keep = select_keep_set([middling, easy, hard], 0.5, keep_percent=0.5, max_per_prompt=1)
    assert [c.sample.id for c in keep] == ["easy", "hard"]
    keep = select_keep_set([middling, easy, hard], 0.5, keep_percent=0.3, max_per_prompt=1)
    assert [c.sample.id for c in keep] == ["easy"]


def test_nothing_passes():
    assert select_keep_set([group("p", [0.1, 0.2])], 0.5, 1.0, 2) == []
