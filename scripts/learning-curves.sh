#!/usr/bin/env bash
# Learning, end to end, for every preset: `tiny` warm-started with SFT on a task, then each
# preset trained from that checkpoint; prints held-out accuracy/reward at the start and the end.
# Usage: scripts/learning-curves.sh [OUT_DIR] (default runs/learning). `make learn` runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/learning}
BIN=.build/release/rlhub
TASK=${TASK:-add:digits=2}
STEPS=${STEPS:-60}
rm -rf "$OUT" && mkdir -p "$OUT"
common=(--set eval_episodes=200 --set eval_every=0 --set max_new_tokens=8 --set token_budget=128 --set micro_batch_tokens=4096)
# SFT learns addition in a sharp transition whose onset moves with rounding (thread count, OpenBLAS
# kernel; see Tests/TrainerTests/LearningTests.swift), so the warm start is taken at the first
# evaluation (every 50 steps) whose held-out accuracy reaches WARM (default 0.15), not at a fixed
# step: a probe run finds that step S, then SFT is run again for exactly S steps. Runs are
# bit-reproducible at a given thread count and the step count changes nothing before step S, so
# the second run ends with the probe's model at step S (its final accuracy is checked against it).
WARM=${WARM:-0.15}
sft=(--algo sft --task "$TASK" --model preset:tiny --set lr=2e-3 --set prompts_per_step=32 --set max_grad_norm=5 "${common[@]}")
echo "== SFT warm start on $TASK (32 demonstrations a step; first evaluation with accuracy >= $WARM, at most 1000 steps)"
$BIN train "${sft[@]}" --steps 1000 --set eval_every=50 --out "$OUT/sft-probe" 2>/dev/null >/dev/null
read -r WARM_STEP WARM_ACC < <(python3 - "$OUT/sft-probe" "$WARM" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
hits = [(r["step"], r["eval/accuracy"]) for r in rows if r.get("eval/accuracy", -1) >= float(sys.argv[2]) and r["step"] > 0]
print(*(hits[0] if hits else ("", "")))
PY
)
if [ -z "$WARM_STEP" ]; then echo "SFT never reached held-out accuracy $WARM in 1000 steps" >&2; exit 1; fi
$BIN train "${sft[@]}" --steps "$WARM_STEP" --out "$OUT/sft" 2>/dev/null >/dev/null
echo "warm start: step $WARM_STEP (probe accuracy $WARM_ACC)"
summary() {  # first and last held-out accuracy / reward of a run
    python3 - "$1" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1] + "/metrics.jsonl")]
ev = [r for r in rows if "eval/accuracy" in r]
ex = [r["value/explained_variance"] for r in rows if "value/explained_variance" in r]
s = f"eval accuracy {ev[0]['eval/accuracy']:.3f} -> {ev[-1]['eval/accuracy']:.3f}, mean reward {ev[0]['eval/mean_reward']:.3f} -> {ev[-1]['eval/mean_reward']:.3f}"
if ex: s += f", explained variance {sum(ex[:5])/len(ex[:5]):.3f} (first 5) -> {sum(ex[-5:])/len(ex[-5:]):.3f} (last 5)"
print(s)
PY
}
echo "sft: $(summary "$OUT/sft")"
for algo in grpo dr-grpo dapo gspo rloo reinforce++ reinforce++-baseline ppo dpo; do
    extra=(--set lr=3e-4 --set prompts_per_step=64)
    case $algo in
        ppo) extra=(--set lr=3e-4 --set prompts_per_step=64 --set ppo_epochs=2) ;;
        dapo) extra+=(--set overlong_buffer=4) ;;
        gspo) extra+=(--set mini_batches=2) ;;
        dpo) extra=(--set lr=1e-4 --set prompts_per_step=32) ;;
    esac
    start=$(date +%s)
    $BIN train --algo "$algo" --task "$TASK" --model "$OUT/sft/final" --steps "$STEPS" "${extra[@]}" "${common[@]}" \
        --out "$OUT/$algo" 2>/dev/null >/dev/null
    echo "$algo ($(( $(date +%s) - start )) s): $(summary "$OUT/$algo")"
done
