#!/usr/bin/env bash
# rlhub's store against MLflow 3.x's SQLite store, same workload, same run, same machine:
# 20,000 metric points (10 metrics × 2,000 steps, 1,000 points per call), one history read, a
# filtered search. MLflow is installed into .build-venv-mlflow (not a dependency of rlhub).
# Usage: scripts/store-bench.sh   (after `make build`)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.build-venv-mlflow
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import mlflow" 2>/dev/null; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "mlflow>=3,<4"
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
.build/release/rlhub bench --suite store --json "$WORK/rlhub.json" 2>&1 | grep -E "^(store|sgemm_)"
"$VENV/bin/python" scripts/mlflow-store-bench.py "$WORK/mlflow" > "$WORK/mlflow.json" 2>/dev/null
python3 - "$WORK/rlhub.json" "$WORK/mlflow.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["entries"]; m = json.load(open(sys.argv[2]))
ours = r["store.log_metrics.batched"]["points_per_s"]
print(f"mlflow {m['mlflow']}: log_batch {m['log_points_per_s']:.0f} points/s, history read {m['read_history_ms']:.1f} ms "
      f"({m['read_history_points']} points), search_runs {m['search_runs_ms_201_runs']:.1f} ms over 201 runs")
print(f"rlhub: {ours:.0f} points/s batched = {ours / m['log_points_per_s']:.0f}x MLflow; "
      f"4 processes {r['store.log_metrics.4_processes']['points_per_s']:.0f} points/s; "
      f"1M-point curve {r['store.read_curve.1M']['seconds']*1000:.0f} ms; runs --where over 10k runs {r['store.runs_where.10k']['seconds']*1000:.1f} ms")
PY
