"""Datasets: the VLMSample record, the registry, loaders and the synthetic task."""

from .sample import VLMSample

__all__ = ["VLMSample"]
