import random

from halo_forge.vlm.config import VLMRAFTConfig
from halo_forge.vlm.data.sample import VLMSample
from halo_forge.vlm.selection import ScoredCompletion, select_keep_set
from halo_forge.vlm.verifiers.result import VerifyResult


def group(name, rewards, completions=None):
    sample = VLMSample(id=name, image="x.png", question="q", answers=["a"])
    completions = completions or [f"{name}-{i}" for i in range(len(rewards))]
    return [ScoredCompletion(sample, c, VerifyResult(r, r >= 0.5, {})) for c, r in zip(completions, rewards)]


def select(groups, threshold=0.5, keep_percent=1.0, max_per_prompt=2, seed=0):
    return select_keep_set(groups, threshold, keep_percent, max_per_prompt, rng=random.Random(seed))


def test_threshold_and_per_prompt_cap():
    keep = select([group("easy", [1.0, 0.9, 0.8, 0.2])])
    assert [c.completion for c in keep] == ["easy-0", "easy-1"]


def test_duplicate_completions_count_once():
    keep = select([group("p", [1.0, 1.0, 1.0], ["red", "red", "red"])])
    assert [c.completion for c in keep] == ["red"]


def test_keep_percent_prefers_higher_reward():
    easy = group("easy", [1.0, 1.0, 1.0, 1.0])
    hard = group("hard", [1.0, 0.0, 0.0, 0.0])
    middling = group("mid", [0.7, 0.0])
    keep = select([middling, easy, hard], keep_percent=0.5, max_per_prompt=1)
    assert {c.sample.id for c in keep} == {"easy", "hard"}


def test_ties_are_broken_by_a_seeded_shuffle_not_by_dataset_order():
    groups = [group(f"p{i}", [1.0] * 4) for i in range(100)]
    kept = [{c.sample.id for c in select(groups, keep_percent=0.5, max_per_prompt=1, seed=s)} for s in range(10)]
    assert all(len(k) == 50 for k in kept)
    assert kept[0] != {f"p{i}" for i in range(50)} and kept[0] != kept[1]
    assert set.union(*kept) == {f"p{i}" for i in range(100)}
    assert select(groups, keep_percent=0.5, max_per_prompt=1, seed=3) == select(
        groups, keep_percent=0.5, max_per_prompt=1, seed=3)  # the same seed, the same keep-set


def test_under_the_defaults_every_prompt_is_kept_in_some_cycle():
    """100 prompts x 4 samples, every one rewarded 1.0, the default threshold, cap and keep percent:
    a prompt's best completion comes before any prompt's second, so none is starved."""
    cfg = VLMRAFTConfig()
    groups = [group(f"p{i}", [1.0] * 4) for i in range(100)]
    kept = set()
    for cycle in range(1, cfg.num_cycles + 1):
        keep = select_keep_set(groups, cfg.reward_threshold, cfg.keep_percent, cfg.max_kept_per_prompt,
                               rng=random.Random(cfg.seed * 1000 + cycle))
        kept |= {c.sample.id for c in keep}
    assert kept == {f"p{i}" for i in range(100)}


def test_nothing_passes():
    assert select([group("p", [0.1, 0.2])]) == []

