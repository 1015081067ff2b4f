"""Vision-language RAFT: data, rollouts, verification, selection, fine-tuning, evaluation."""
