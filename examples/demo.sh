#!/usr/bin/env bash
# The main job on the built-in default, end to end on a CPU with no network:
# build a tiny Qwen2-VL, warm-start it with SFT to about 50% held-out accuracy, RAFT-train it on the
# synthetic task, and print the before/after table. Starts afresh in runs/demo each time.
set -euo pipefail
RUN=runs/demo
rm -rf "$RUN"
start=$(date +%s)

halo-forge vlm make-tiny-model --family qwen2_vl --output "$RUN/tiny-model"
halo-forge vlm sft --model "$RUN/tiny-model" --dataset synthetic --output "$RUN/warm-start" --full \
    --learning-rate 2e-3 --batch-size 32 --epochs 20 --target-accuracy 0.5 --eval-every 25 --max-new-tokens 4 \
    --num-threads 2
halo-forge vlm train --config examples/demo.yaml --model "$RUN/warm-start" --output "$RUN" --num-threads 2
halo-forge vlm report "$RUN" --min-gain 0.08

echo "demo finished in $(( $(date +%s) - start )) s"
