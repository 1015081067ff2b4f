"""The perception stage: are the visual claims of a completion true of the image?"""

from __future__ import annotations

from rapidfuzz import fuzz

from .claims import GENERIC, SHAPES, Claim
from .evidence import ImageEvidence
from .result import StageResult


def _centre(box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def _on_side(box, side: str, width: int, height: int) -> bool:
    x, y = _centre(box)
    return {"left": x < width / 2, "right": x > width / 2, "top": y < height / 2, "bottom": y > height / 2}[side]


def _relation_holds(relation: str, a, b) -> bool:
    (ax, ay), (bx, by) = _centre(a), _centre(b)
    width = max(a[2] - a[0], b[2] - b[0])
    return {
        "left of": ax < bx, "right of": ax > bx, "above": ay < by, "below": ay > by,
        "next to": abs(ax - bx) + abs(ay - by) <= 3 * width,
    }[relation]


class PerceptionChecker:
    """Scores the fraction of checkable claims that the image's evidence confirms; None when no
    claim can be checked (no claims, or no evidence of the kind they need)."""

    def check(self, claims: list[Claim], evidence: ImageEvidence) -> StageResult:
        checks = [self.check_claim(c, evidence) for c in claims]
        spoken = [c for c in checks if c["score"] is not None]
        if not spoken:
            reason = "no visual claims" if not claims else "no evidence for these claims"
            return StageResult(score=None, checks=checks, reason=reason)
        return StageResult(score=sum(c["score"] for c in spoken) / len(spoken), checks=checks)

    def check_claim(self, claim: Claim, evidence: ImageEvidence) -> dict:
        score, seen = self._score(claim, evidence)
        return {"name": f"{claim.kind}:{claim.subject}={claim.value}", "score": score, "claim": claim.span,
                "evidence": seen}

    def _score(self, claim: Claim, evidence: ImageEvidence) -> tuple[float | None, str]:
        if claim.kind == "text":
            if evidence.words is None:
                return None, "no OCR evidence"
            words = claim.value.split()
            found = [w for w in words if any(fuzz.ratio(w, seen) >= 85 for seen in evidence.words)]
            return len(found) / len(words), f"read: {' '.join(sorted(evidence.words))[:80]}"
        objects = evidence.objects
        if objects is None:
            return None, "no object evidence"
        shape_scene = all(o["kind"] in SHAPES or o["kind"] is None for o in objects)
        if claim.subject and claim.subject not in GENERIC and shape_scene and claim.subject not in SHAPES:
            return None, f"{claim.subject!r} is outside what the detector knows"
        generic = claim.subject in GENERIC or not claim.subject
        matching = [o for o in objects if generic or o["kind"] == claim.subject]
        unnamed = [] if generic else [o for o in objects if o["kind"] is None]  # might be the subject
        if claim.kind == "object":
            if matching:
                return 1.0, f"{len(matching)} {claim.subject}(s) seen"
            return (None, "a shape the detector cannot name") if unnamed else (0.0, f"no {claim.subject} seen")
        if claim.kind == "count":
            if claim.side:
                matching, unnamed = ([o for o in group if _on_side(o["box"], claim.side, evidence.width, evidence.height)]
                                     for group in (matching, unnamed))
            if claim.color:
                unnamed = unnamed + [o for o in matching if o.get("color") is None]
                matching = [o for o in matching if o.get("color") == claim.color]
            where = " ".join(w for w in (claim.color, claim.subject or "object", claim.side and f"on the {claim.side}") if w)
            if unnamed:
                return None, f"{len(matching)} {where} seen, and {len(unnamed)} the detector cannot fully name"
            return float(len(matching) == int(claim.value)), f"{len(matching)} {where} seen"
        if claim.kind == "absent":
            return self._absent(claim, matching, unnamed)
        if claim.kind == "color":
            colors = {o.get("color") for o in matching}
            if claim.value in colors:
                return 1.0, f"colours seen: {', '.join(sorted(c for c in colors if c))}"
            if None in colors or unnamed:
                return None, "the detector names no colour for some of them"
            if not matching:
                return 0.0, f"no {claim.subject} seen"
            return 0.0, f"colours seen: {', '.join(sorted(colors))}"
        if claim.kind == "side":
            if not objects:
                return 0.0, "no objects seen"
            xs, ys = zip(*(_centre(o["box"]) for o in objects))
            cx, cy = sum(xs) / len(xs), sum(ys) / len(ys)
            side = _on_side([cx, cy, cx, cy], claim.value, evidence.width, evidence.height)
            return float(side), f"objects centred at ({cx:.0f}, {cy:.0f}) of {evidence.width}x{evidence.height}"
        if claim.kind == "relation":
            relation, other = claim.value.split(":")
            others = [o for o in objects if o["kind"] == other]
            pairs = [(a, b) for a in matching for b in others if a is not b]
            if not pairs:
                return 0.0, f"no {claim.subject} and {other} pair seen"
            return float(any(_relation_holds(relation, a["box"], b["box"]) for a, b in pairs)), f"{len(pairs)} pair(s)"
        return None, f"unknown claim kind {claim.kind!r}"

    @staticmethod
    def _absent(claim: Claim, matching: list[dict], unnamed: list[dict]) -> tuple[float | None, str]:
        """"There is no (gray) circle": true when no object seen is one."""
        what = " ".join(w for w in (claim.value, claim.subject or "object") if w)
        present = [o for o in matching if not claim.value or o.get("color") == claim.value]
        if present:
            return 0.0, f"{len(present)} {what}(s) seen"
        doubtful = unnamed + ([o for o in matching if o.get("color") is None] if claim.value else [])
        if doubtful:
            return None, f"{len(doubtful)} object(s) the detector cannot fully name"
        return 1.0, f"no {what} seen"
