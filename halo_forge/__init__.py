"""halo-forge: RAFT training of vision-language models with verifiable rewards."""

__version__ = "0.1.0"
