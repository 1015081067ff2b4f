"""Verifiers: score a completion against an image, a question and the gold answers."""

from .output import OutputChecker
from .result import StageResult, VerifyResult
from .vision import VisionVerifier

__all__ = ["OutputChecker", "StageResult", "VerifyResult", "VisionVerifier"]
