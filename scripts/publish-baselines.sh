#!/usr/bin/env bash
# Publishes the release `baselines-v3` from the code in this checkout, beside the releases already
# in baselines/ (baselines-v1 and -v2 stay: their index entries, stores and archives are kept as they are):
#   1. `rlhub grid experiments/baseline.yaml` into a fresh store (the cells of `make baseline`),
#   2. `rlhub release create baselines-v3` of the experiment's runs,
#   3. `rlhub publish` into a copy of baselines/ (hub layout; checkpoint archives of seed 0 on the
#      arithmetic task for the SFT warm start, GRPO, DAPO and PPO, to keep the folder small; every
#      other run keeps its checkpoint hash in the index), swapped in when complete,
#   4. `rlhub report` of the experiment into reports/baseline/.
# A pull of baselines/ into any store then regenerates reports/baseline/ byte for byte (tested by
# BaselinesHubCLITests). Needs a clean checkout: the runs record the code version.
# Usage: scripts/publish-baselines.sh [STORE]   (default: a new folder under /tmp)
#   HUB=DIR      the hub folder (default baselines)        REPORT=DIR  (default reports/baseline)
#   RELEASE=NAME (default baselines-v3)                    SPEC=FILE   (default experiments/baseline.yaml)
#   CHECKPOINTS=FILTER  the runs whose archives are published (default: seed 0 on add, sft/grpo/dapo/ppo)
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.build/release/rlhub
STORE=${1:-$(mktemp -d /tmp/rlhub-baselines-XXXXXX)/store}
HUB=${HUB:-baselines}
REPORT=${REPORT:-reports/baseline}
RELEASE=${RELEASE:-baselines-v3}
SPEC=${SPEC:-experiments/baseline.yaml}
DEFAULT_CHECKPOINTS="seed = 0 and task = 'add' and algo in ('sft', 'grpo', 'dapo', 'ppo')"
CHECKPOINTS=${CHECKPOINTS:-$DEFAULT_CHECKPOINTS}
if [ -n "$(git status --porcelain -- Sources Package.swift)" ]; then
    echo "publish-baselines: Sources/ or Package.swift has uncommitted changes; commit them first" >&2
    exit 2
fi
CODE=$(git rev-parse --short=7 HEAD)
EXPERIMENT=$(sed -n 's/^name: *//p' "$SPEC" | head -1)
[ -n "$EXPERIMENT" ] || { echo "publish-baselines: $SPEC has no 'name:' line" >&2; exit 2; }
"$BIN" grid "$SPEC" --store "$STORE"
"$BIN" release create "$RELEASE" --store "$STORE" --where "experiment = '$EXPERIMENT'" \
    --notes "$SPEC (experiment $EXPERIMENT): $(sed -n 's/^description: *//p' "$SPEC" | head -1); code $CODE"
rm -rf "$HUB.new"
if [ -d "$HUB" ]; then cp -a "$HUB" "$HUB.new"; fi
rm -rf "$HUB.new/releases/$RELEASE"
"$BIN" publish "$RELEASE" --store "$STORE" --to "$HUB.new" \
    --checkpoints "$CHECKPOINTS"
# A release published again leaves archives no release names any more: keep what index.json lists.
python3 - "$HUB.new" <<'PY'
import json, os, sys
hub = sys.argv[1]
listed = set(json.load(open(os.path.join(hub, "index.json")))["files"])
for root, _, names in os.walk(os.path.join(hub, "blobs")):
    for n in names:
        rel = os.path.relpath(os.path.join(root, n), hub)
        if rel not in listed:
            os.remove(os.path.join(hub, rel))
PY
rm -rf "$HUB" && mv "$HUB.new" "$HUB"
rm -rf "$REPORT"
"$BIN" report "$EXPERIMENT" --store "$STORE" --out "$REPORT"
du -sh "$HUB"
echo "store: $STORE"
