#!/usr/bin/env bash
# Rebuilds the published release `baselines-v1` from the code in this checkout:
#   1. `rlhub grid experiments/baseline.yaml` into a fresh store (the cells of `make baseline`),
#   2. `rlhub release create baselines-v1` of the experiment's runs,
#   3. `rlhub publish` into baselines/ (hub layout; checkpoint archives of seed 0 on addition for
#      the SFT warm start, GRPO, DAPO and PPO, to stay near 16 MB; every other run keeps its
#      checkpoint hash in the index),
#   4. `rlhub report` of the release into reports/baseline/.
# A pull of baselines/ into any store then regenerates reports/baseline/ byte for byte (tested by
# BaselinesHubCLITests). Needs a clean checkout: the runs record the code version.
# Usage: scripts/publish-baselines.sh [STORE]   (default: a new folder under /tmp)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/rlhub
STORE=${1:-$(mktemp -d /tmp/rlhub-baselines-XXXXXX)/store}
if [ -n "$(git status --porcelain -- Sources Package.swift)" ]; then
    echo "publish-baselines: Sources/ or Package.swift has uncommitted changes; commit them first" >&2
    exit 2
fi
CODE=$(git rev-parse --short=7 HEAD)
"$BIN" grid experiments/baseline.yaml --store "$STORE"
"$BIN" release create baselines-v1 --store "$STORE" --where "experiment = 'baseline'" \
    --notes "experiments/baseline.yaml: grpo, dr-grpo, dapo, rloo, ppo on add:digits=1 and frozenlake:size=3 (tiny, SFT warm start), seeds 0-2, 40 steps; code $CODE"
rm -rf baselines.new
"$BIN" publish baselines-v1 --store "$STORE" --to baselines.new \
    --checkpoints "seed = 0 and task = 'add' and algo in ('sft', 'grpo', 'dapo', 'ppo')"
rm -rf baselines && mv baselines.new baselines
rm -rf reports/baseline
"$BIN" report baseline --store "$STORE" --out reports/baseline
du -sh baselines
echo "store: $STORE"
