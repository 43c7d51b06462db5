"""The MLflow side of scripts/store-bench.sh: MLflow 3.x's SQLite tracking store under the workload
rlhub's `store.log_metrics.batched` benchmark uses (10 metrics x 2,000 steps, 100 steps = 1,000
points per log_batch call), then one metric-history read and a filtered search over 201 runs.
Prints one JSON object. Usage: python mlflow-store-bench.py WORKDIR"""
import json
import os
import sys
import time

import mlflow
from mlflow.entities import Metric, Param
from mlflow.tracking import MlflowClient

METRICS = [f"m{i}" for i in range(10)]
STEPS = 2000
STEPS_PER_CALL = 100


def main(work):
    os.makedirs(work, exist_ok=True)
    uri = "sqlite:///" + os.path.join(work, "mlflow.db")
    mlflow.set_tracking_uri(uri)
    client = MlflowClient(uri)
    experiment = client.create_experiment("bench", artifact_location=os.path.join(work, "artifacts"))
    run = client.create_run(experiment).info.run_id
    stamp = int(time.time() * 1000)

    start = time.time()
    for first in range(0, STEPS, STEPS_PER_CALL):
        batch = [Metric(name, first * 0.001 + step * 0.001 + k, stamp, step)
                 for step in range(first, first + STEPS_PER_CALL) for k, name in enumerate(METRICS)]
        client.log_batch(run, metrics=batch)
    log_seconds = time.time() - start

    start = time.time()
    history = client.get_metric_history(run, "m3")
    read_seconds = time.time() - start

    algos = ["grpo", "rloo", "ppo"]
    for i in range(200):
        other = client.create_run(experiment).info.run_id
        client.log_batch(other, metrics=[Metric("reward", (i % 7) / 7, stamp, 0)], params=[Param("algo", algos[i % 3])])
    start = time.time()
    hits = client.search_runs([experiment], "params.algo = 'grpo' and metrics.reward > 0.5")
    search_seconds = time.time() - start

    points = STEPS * len(METRICS)
    print(json.dumps({
        "mlflow": mlflow.__version__, "points": points, "log_points_per_s": points / log_seconds,
        "read_history_points": len(history), "read_history_ms": read_seconds * 1000,
        "search_runs_ms_201_runs": search_seconds * 1000, "hits": len(hits),
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
