"""reasoning-gym itself, for the rg: adapter's test (Tests/TasksTests/ReasoningGymTests.swift).

Reads {"name", "config": {...}, "queries": [{"split", "index", "replies": [...], "tag": bool}]} on
stdin and writes, per query, the dataset index the documented split rule picks, that item's
question and answer, and score_answer of each reply (extracted and clamped to [0, 1] as the
adapter documents; as repr strings, which parse exactly). The
split rule is written out again here from docs/environments.md, not imported from the adapter.
"""
import hashlib
import json
import sys

import reasoning_gym
from reasoning_gym.utils import extract_answer


def h(text):
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def main():
    job = json.load(sys.stdin)
    dataset = reasoning_gym.create_dataset(job["name"], **job["config"])
    out = []
    for q in job["queries"]:
        for k in range(10_000):
            i = h(f"{q['split']}/{q['index']}/{k}") % job["config"]["size"]
            item = dataset[i]
            if (h(item["question"]) % 5 == 0) == (q["split"] == "test"):
                break
        answers = [extract_answer(r) if q["tag"] else r.strip() for r in q["replies"]]
        scores = [repr(min(1.0, max(0.0, float(dataset.score_answer(a, item))))) if a else "0.0" for a in answers]
        out.append({"index": i, "question": item["question"], "answer": item["answer"], "scores": scores})
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
