"""The reasoning stage: steps that lead to the answer, no contradictions, grounded in the image.

Only content counts as a step: a sentence that makes a new visual claim, or states a new number
about something (beside at least two words that are not filler). Phrases such as "looking at the
image", enumerators ("Step 2", "1.", "first"), bare numbers, announcing an answer and saying the
same thing again are not steps, so no arrangement of them outscores the bare answer.
"""

from __future__ import annotations

import re

from ..answers import split_final, states_answer
from ..vocabulary import SIDES
from .claims import COLORS, Claim, extract_claims
from .result import StageResult

_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")
_NUMBER = re.compile(r"\b\d+(?:\.\d+)?\b")
_ENUMERATOR = re.compile(
    r"^\s*(?:step\s*\d+\b|\d+[.):]|\(?[a-z]\)|(?:first(?:ly)?|second(?:ly)?|third(?:ly)?|next|then|finally|lastly)\b)"
    r"[.:,)]?\s*",
    re.IGNORECASE,
)
_WORD = re.compile(r"[a-z]{3,}", re.IGNORECASE)
# Words that carry no content of their own: a number beside only these is a bare number.
FILLER = frozenset(
    "the and are was were this that there here its step steps answer final not yes option choice so thus then "
    "therefore hence looking look image picture see can shows show based carefully clearly first firstly second "
    "secondly third thirdly next finally lastly".split()
)


def reasoning_text(completion: str) -> str:
    """The part of a completion before its final answer (for one line, all but its last sentence)."""
    before, final = split_final(completion)
    if before.strip():
        return before
    sentences = [s for s in _SENTENCE.split(final) if s.strip()]
    return " ".join(sentences[:-1])


class ReasoningChecker:
    def check(self, completion: str, final_answer: str, confirmed: dict[Claim, float | None]) -> StageResult:
        """`confirmed` maps each claim to the perception score it got (None: not checkable)."""
        reasoning = reasoning_text(completion)
        if not reasoning.strip():
            return StageResult.abstain("no reasoning before the answer")
        steps = self._steps(reasoning)
        if not steps:
            return StageResult(score=0.0, checks=[{"name": "structure", "score": 0.0,
                                                   "evidence": "no step makes a claim or states a number"}])
        claims = extract_claims(reasoning)
        checks = [{"name": "structure", "score": min(1.0, len(steps) / 2), "evidence": f"{len(steps)} step(s)"}]
        consistent, why = self._consistent(claims, final_answer.lower())
        checks.append({"name": "consistency", "score": float(consistent), "evidence": why})
        grounded = [confirmed.get(c) for c in claims if confirmed.get(c) is not None]
        if grounded:
            checks.append({"name": "grounding", "score": sum(grounded) / len(grounded),
                           "evidence": f"{len(grounded)} claim(s) checked against the image"})
        return StageResult(score=sum(c["score"] for c in checks) / len(checks), checks=checks)

    @staticmethod
    def _steps(reasoning: str) -> list[str]:
        """Sentences that add a claim or a number not already stated; announcing an answer is no step."""
        seen: set = set()
        steps = []
        for sentence in (s for s in _SENTENCE.split(reasoning) if s.strip() and not states_answer(s)):
            sentence = _ENUMERATOR.sub("", sentence)
            content = {c.key for c in extract_claims(sentence)}
            words = [w for w in _WORD.findall(sentence) if w.lower() not in FILLER]
            if len(words) >= 2:
                content |= {("number", n) for n in _NUMBER.findall(sentence)}
            if content - seen:
                steps.append(sentence)
            seen |= content
        return steps

    @staticmethod
    def _consistent(claims: list[Claim], answer: str) -> tuple[bool, str]:
        counts: dict[str, set[str]] = {}
        for c in claims:
            if c.kind == "count":
                group = " ".join(w for w in (c.color, c.subject, c.side and f"on the {c.side}") if w)
                counts.setdefault(group, set()).add(c.value)
        clash = [s for s, values in counts.items() if len(values) > 1]
        if clash:
            return False, f"different counts of {clash[0]}: {', '.join(sorted(counts[clash[0]]))}"
        answer_words = set(re.findall(r"[a-z0-9.]+", answer))
        for kind, vocabulary in (("count", None), ("color", COLORS), ("side", SIDES)):
            said = {c.value for c in claims if c.kind == kind}
            counted = [int(c.value) for c in claims if c.kind == "count"]
            if kind == "count" and len(counted) > 1:  # the total of the groups counted agrees too
                said.add(str(sum(counted)))
            if kind == "side":  # sides that qualify counts are said as well
                said |= {c.side for c in claims if c.side}
            given = answer_words & set(vocabulary) if vocabulary else {w for w in answer_words if w.isdigit()}
            if said and given and not (said & given):
                return False, f"the reasoning says {', '.join(sorted(said))} but the answer is {', '.join(sorted(given))}"
        return True, "no contradiction found"
