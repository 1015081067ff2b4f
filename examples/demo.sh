#!/usr/bin/env bash
# The main job on the built-in default, end to end on a CPU with no network:
# build a tiny Qwen2-VL, warm-start it on 300 worked demonstrations of the reasoning task (it learns
# to describe the scene, then answer), RAFT-train it on answer-only rows with the multi-stage
# verifier, and print held-out accuracy and hallucinated-claim rate before and after.
# Starts afresh in runs/demo each time.
set -euo pipefail
RUN=runs/demo
rm -rf "$RUN"
start=$(date +%s)

halo-forge vlm make-tiny-model --family qwen2_vl --output "$RUN/tiny-model"
halo-forge vlm sft --model "$RUN/tiny-model" --dataset synthetic-reasoning --split demonstrations \
    --output "$RUN/warm-start" --full-finetune --learning-rate 2e-3 --batch-size 32 --epochs 40 --max-new-tokens 28 \
    --eval-limit 200 --num-threads 2
halo-forge vlm train --config examples/demo.yaml --model "$RUN/warm-start" --output "$RUN/raft" --num-threads 2
halo-forge vlm report "$RUN/raft" --html "$RUN/report.html" --min-gain 0.03 --min-hallucination-drop 0.05

echo "demo finished in $(( $(date +%s) - start )) s"
