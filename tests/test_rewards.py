"""The verifier under TRL's reward-function contract, and the grounding figures read off it."""

import math

import pytest
from trl.data_utils import is_conversational
from trl.trainer.grpo_trainer import GRPOTrainer

from halo_forge.vlm.data import reasoning
from halo_forge.vlm.grounding import grounding
from halo_forge.vlm.rewards import VerifierReward, grpo_rows
from halo_forge.vlm.rollout import EntropyMeter
from halo_forge.vlm.verifiers import VisionVerifier

import torch

SAMPLE = reasoning.generate("demonstrations", 1, seed=3)[0]
GROUPS = SAMPLE.annotations["scene"]["groups"]


def describe(counts):
    return " ".join(f"There are {n} {g['color']} {g['kind']}s on the {g['side']}." for n, g in zip(counts, GROUPS))


@pytest.fixture(scope="module")
def reward():
    return VerifierReward(VisionVerifier(ocr="none"))


def trl_call(reward, completions, rows=None):
    """Call the reward exactly as GRPOTrainer._calculate_rewards does: every column but prompt and
    completion repeated per completion, completions as assistant messages, TRL's own extra kwargs."""
    rows = rows or [dict(grpo_rows([SAMPLE], lambda q: [{"role": "user", "content": q}])[0])] * len(completions)
    columns = {key: [row[key] for row in rows] for key in rows[0] if key not in ("prompt", "completion")}
    return reward(prompts=[row["prompt"] for row in rows],
                  completions=[[{"role": "assistant", "content": c}] for c in completions],
                  completion_ids=[[1, 2]] * len(completions), trainer_state=None, log_extra=None, log_metric=None,
                  **columns)


def test_the_reward_follows_trls_calling_convention_and_ranks_grounded_reasoning_first(reward):
    true_counts = [g["count"] for g in GROUPS]
    right = SAMPLE.answer
    wrong = next(a for a in ("left", "right", "1", "2", "red", "blue") if a != right)
    completions = [
        f"{describe(true_counts)} The answer is {right}.",  # right, grounded
        right,  # right, bare
        f"{describe([c % 3 + 1 for c in true_counts])} The answer is {right}.",  # right, miscounted groups
        f"{describe(true_counts)} The answer is {wrong}.",  # wrong, however well described
    ]
    rewards = trl_call(reward, completions)
    assert all(isinstance(r, float) for r in rewards)
    assert rewards[0] > rewards[1] > rewards[2] > rewards[3]
    assert "halo_forge_verifier" == reward.__name__  # TRL logs each reward under its function's name


def test_rows_without_answers_get_none_and_plain_strings_work(reward):
    row = dict(grpo_rows([SAMPLE], lambda q: [{"role": "user", "content": q}])[0])
    unanswered = {**row, "answers": []}
    rewards = trl_call(reward, [SAMPLE.answer, SAMPLE.answer], rows=[row, unanswered])
    assert rewards[0] > 0.5 and rewards[1] is None
    plain = reward(prompts=[SAMPLE.question], completions=[SAMPLE.answer], image=[SAMPLE.image],
                   answers=[SAMPLE.answers], annotations=[SAMPLE.annotations])
    assert plain == rewards[:1]
    one_string = reward(prompts=[SAMPLE.question], completions=[SAMPLE.answer], image=[SAMPLE.image],
                        answers=[SAMPLE.answer], annotations=[SAMPLE.annotations])  # a column of plain strings
    assert one_string == rewards[:1]


def test_grpo_rows_are_what_grpotrainer_expects(reward):
    rows = grpo_rows([SAMPLE], lambda q: [{"role": "user", "content": [{"type": "image"}, {"type": "text", "text": q}]}])
    assert {"prompt", "image"} <= set(rows.column_names)
    assert is_conversational(rows[0])  # GRPOTrainer refuses images with non-conversational prompts
    assert "_calculate_rewards" in vars(GRPOTrainer)  # the calling convention trl_call mirrors


def test_hallucination_rate_is_the_share_of_checked_claims_the_scene_refutes():
    verifier = VisionVerifier(ocr="none")
    g = GROUPS[0]
    true = f"There are {g['count']} {g['color']} {g['kind']}s on the {g['side']}. The answer is 5."
    false = f"There are {g['count'] + 3} {g['color']} {g['kind']}s on the {g['side']}. The answer is 5."
    results = [r[0] for r in verifier.verify_batch([SAMPLE] * 3, [[true], [false], ["5"]])]
    stats = grounding(results)
    # each description claims a count, a colour and an object: 6 checked, the one wrong count refuted
    assert (stats.claims, stats.refuted, stats.reasoning) == (6, 1, 2)
    assert stats.hallucination_rate == pytest.approx(1 / 6) and stats.reasoning_share == pytest.approx(2 / 3)
    assert grounding(results[2:]).hallucination_rate is None  # a bare answer claims nothing


def test_entropy_meter_measures_the_sampling_distribution_and_skips_finished_rows():
    meter = EntropyMeter(stop_ids=[0])
    vocab = 10
    uniform, peaked = torch.zeros(vocab), torch.full((vocab,), -1e9)
    peaked[3] = 0.0
    meter.start_batch()
    meter(torch.tensor([[5], [5]]), torch.stack([uniform, peaked]))  # first step: both rows live
    meter(torch.tensor([[5, 4], [5, 0]]), torch.stack([uniform, uniform]))  # row 2 just emitted the stop token
    assert meter.tokens == 3
    assert meter.mean == pytest.approx(2 * math.log(vocab) / 3)
