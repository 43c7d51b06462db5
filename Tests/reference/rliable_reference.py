"""rliable's estimates for fixed score matrices: the reference for rlhub's Evaluation statistics.

    python3 Tests/reference/rliable_reference.py cases.json     # or the JSON on stdin

Needs `pip install rliable==1.2.0` (which brings numpy, scipy and arch). Input:

    {"seed": 0, "reps": 2000, "gamma": 1.0, "taus": [0.0, 0.25, ...],
     "cases": [{"name": "ties",
                "algorithms": {"A": {"task0": [runs...], ...}, "B": {...}},
                "estimate": ["A"],            # optional: algorithms to estimate (default all)
                "poi": [["A", "B"], ...],
                "curves": {"A": {"steps": [...], "scores": {"task0": [[score per step] per run]}}}}],
     "trim_mean": [[...], ...], "median": [[...], ...],
     "t_quantiles": [[p, df], ...], "pass_at_k": [[n, c, k], ...]}

Output (stdout, JSON): per case and algorithm, point estimates and 95% percentile CIs of
`iqm`, `mean`, `median`, `optimality-gap` (γ = `gamma`); the run-score and task-mean performance
profiles at `taus` with their CIs; P(X > Y) with its CI for each `poi` pair; per-step IQM with
CIs for `curves`; plus scipy's trim_mean, numpy's median, scipy's t quantiles and exact pass@k.

Tasks are taken in sorted order. When every task of an algorithm has the same number of runs,
the algorithm's scores become rliable's `runs x tasks` matrix and go through rliable's own
functions unchanged (`get_interval_estimates`, `create_performance_profile`). With unequal run
counts rliable has no matrix, so each task becomes a separate `(n_t, 1)` array passed as a list to
`get_interval_estimates`, which then uses rliable's `StratifiedIndependentBootstrap`: the runs of
each task are resampled within that task, i.e. the stratified bootstrap. The statistics then
weigh tasks as rlhub documents: mean, median and optimality gap of the per-task values (built
from rliable's `aggregate_*` on each task), IQM over all pooled scores, profiles averaged over
tasks.

rliable draws from NumPy's global RNG, seeded here with `np.random.seed(seed)` before each call
(its `random_state` argument does not reach `StratifiedBootstrap.update_indices`).
"""

import fractions
import json
import math
import sys

import numpy as np
import scipy
import scipy.stats
import rliable
from rliable import library as rly
from rliable import metrics

try:
    from importlib.metadata import version
except ImportError:  # pragma: no cover
    version = None

METRICS = ["iqm", "mean", "median", "optimality-gap"]


def aggregates_rect(gamma):
    def f(x):
        return np.array([
            metrics.aggregate_iqm(x),
            metrics.aggregate_mean(x),
            metrics.aggregate_median(x),
            metrics.aggregate_optimality_gap(x, gamma),
        ])
    return f


def aggregates_ragged(gamma):
    def f(*cols):
        means = np.array([[metrics.aggregate_mean(c) for c in cols]])  # 1 x M
        return np.array([
            metrics.aggregate_iqm(np.concatenate([c[:, 0] for c in cols])),
            metrics.aggregate_mean(means),
            metrics.aggregate_median(means),
            np.mean([metrics.aggregate_optimality_gap(c, gamma) for c in cols]),
        ])
    return f


def profile_ragged(taus, use_score_distribution):
    def f(*cols):
        if use_score_distribution:
            return np.mean([rly.score_distributions(c, taus) for c in cols], axis=0)
        means = np.array([[np.mean(c) for c in cols]])
        return rly.average_score_distributions(means, taus)
    return f


def interval(score, func, seed, reps):
    np.random.seed(seed)
    points, cis = rly.get_interval_estimates({"k": score}, func, reps=reps)
    return np.asarray(points["k"], float), np.asarray(cis["k"], float)


def algorithm_estimates(scores, tasks, seed, reps, gamma, taus):
    counts = {len(scores[t]) for t in tasks}
    out = {}
    if len(counts) == 1:
        matrix = np.array([scores[t] for t in tasks], float).T  # runs x tasks
        point, ci = interval(matrix, aggregates_rect(gamma), seed, reps)
        profiles = {}
        for name, use in (("run-scores", True), ("task-means", False)):
            np.random.seed(seed)
            p, c = rly.create_performance_profile(
                {"k": matrix}, taus, use_score_distribution=use, reps=reps)
            profiles[name] = (p["k"], c["k"])
    else:
        cols = [np.array(scores[t], float).reshape(-1, 1) for t in tasks]
        point, ci = interval(cols, aggregates_ragged(gamma), seed, reps)
        profiles = {}
        for name, use in (("run-scores", True), ("task-means", False)):
            profiles[name] = interval(cols, profile_ragged(taus, use), seed, reps)
    out["rectangular"] = len(counts) == 1
    out["point"] = {m: float(point[i]) for i, m in enumerate(METRICS)}
    out["ci"] = {m: [float(ci[0][i]), float(ci[1][i])] for i, m in enumerate(METRICS)}
    out["profiles"] = {
        name: {"point": [float(v) for v in p], "lower": [float(v) for v in c[0]],
               "upper": [float(v) for v in c[1]]}
        for name, (p, c) in profiles.items()
    }
    return out


def poi_estimate(x, y, tasks, seed, reps):
    rect = len({len(x[t]) for t in tasks}) == 1 and len({len(y[t]) for t in tasks}) == 1
    if rect:
        mx = np.array([x[t] for t in tasks], float).T
        my = np.array([y[t] for t in tasks], float).T
        np.random.seed(seed)
        p, c = rly.get_interval_estimates(
            {"k": (mx, my)}, metrics.probability_of_improvement, reps=reps)
        point, ci = float(p["k"]), [float(np.ravel(c["k"])[0]), float(np.ravel(c["k"])[1])]
    else:
        M = len(tasks)
        cols = [np.array(x[t], float).reshape(-1, 1) for t in tasks] + \
               [np.array(y[t], float).reshape(-1, 1) for t in tasks]

        def f(*a):
            return np.array([np.mean([metrics.probability_of_improvement(a[t], a[M + t])
                                      for t in range(M)])])
        pt, c = interval(cols, f, seed, reps)
        point, ci = float(pt[0]), [float(c[0][0]), float(c[1][0])]
    return {"rectangular": rect, "estimate": point, "ci": ci}


def curve_estimates(curve, seed, reps):
    tasks = sorted(curve["scores"])
    # runs x tasks x steps (rliable's layout for sample-efficiency curves)
    arr = np.array([curve["scores"][t] for t in tasks], float).transpose(1, 0, 2)

    def iqm_per_step(x):
        return np.array([metrics.aggregate_iqm(x[..., s]) for s in range(x.shape[-1])])
    point, ci = interval(arr, iqm_per_step, seed, reps)
    return {"steps": curve["steps"], "point": point.tolist(), "lower": ci[0].tolist(),
            "upper": ci[1].tolist()}


def exact_pass_at_k(n, c, k):
    if n - c < k:
        return 1.0
    return float(1 - fractions.Fraction(math.comb(n - c, k), math.comb(n, k)))


def main():
    spec = json.load(open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin)
    seed, reps = int(spec.get("seed", 0)), int(spec.get("reps", 2000))
    gamma, taus = float(spec.get("gamma", 1.0)), np.array(spec.get("taus", []), float)
    result = {"versions": {}, "cases": {}}
    for pkg in ("rliable", "numpy", "scipy", "arch"):
        result["versions"][pkg] = version(pkg) if version else "?"
    for case in spec.get("cases", []):
        algorithms = case["algorithms"]
        r = {"algorithms": {}, "poi": [], "curves": {}}
        for name, scores in sorted(algorithms.items()):
            if name not in case.get("estimate", algorithms):
                continue
            tasks = sorted(scores)
            r["algorithms"][name] = algorithm_estimates(scores, tasks, seed, reps, gamma, taus)
        for x, y in case.get("poi", []):
            tasks = sorted(algorithms[x])
            assert tasks == sorted(algorithms[y]), "POI needs the same tasks"
            est = poi_estimate(algorithms[x], algorithms[y], tasks, seed, reps)
            est.update({"x": x, "y": y})
            r["poi"].append(est)
        for name, curve in sorted(case.get("curves", {}).items()):
            r["curves"][name] = curve_estimates(curve, seed, reps)
        result["cases"][case["name"]] = r
    result["trim_mean"] = [float(scipy.stats.trim_mean(np.array(x, float), 0.25, axis=None))
                           for x in spec.get("trim_mean", [])]
    result["median"] = [float(np.median(np.array(x, float))) for x in spec.get("median", [])]
    result["t_quantiles"] = [float(scipy.stats.t.ppf(p, df)) for p, df in spec.get("t_quantiles", [])]
    result["pass_at_k"] = [exact_pass_at_k(n, c, k) for n, c, k in spec.get("pass_at_k", [])]
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
