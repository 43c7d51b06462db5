"""reasoning-gym datasets as rlhub tasks (served by rlhub_env.py: `--task rg:NAME[:key=value,...]`).

Parameters are the dataset's own config fields (reasoning-gym's defaults, except `seed`, which is
fixed at 0 so that problems are reproducible), plus `answer`: `raw` (the whole reply, stripped, is
the answer) or `tag` (the last <answer>...</answer>, reasoning-gym's extract_answer). List values
are written with `|` between items (`operators=+|-`).

Problem `index` of a split: candidate k (k = 0, 1, ...) is dataset item
    int(sha256(f"{split}/{index}/{k}").hexdigest()[:16], 16) % size
and the first candidate whose question lies in the split is taken; a question is a test problem
iff int(sha256(question).hexdigest()[:16], 16) % 5 == 0. So the splits are disjoint in content and
each problem is a pure function of (parameters, split, index). The reward is the dataset's own
score_answer, clamped to [0, 1]; `correct` means a reward of 1.
"""
import dataclasses
import hashlib
import importlib.metadata

import reasoning_gym
from reasoning_gym.factory import DATASETS
from reasoning_gym.utils import extract_answer

# Bumped whenever this adapter changes problems, prompts or rewards (part of the version string,
# so a change gives a different config hash).
ADAPTER_REVISION = 1
ANSWER_MODES = ("raw", "tag")


def sha_int(text):
    return int(hashlib.sha256(text.encode("utf-8")).hexdigest()[:16], 16)


def split_of(question):
    return "test" if sha_int(question) % 5 == 0 else "train"


def render(value):
    """Canonical string of a config value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "none"
    if isinstance(value, (list, tuple)):
        return "|".join(render(v) for v in value)
    return str(value)


def parse(key, raw, default):
    """`raw` converted to the type of the field's default (strings for lists and unknown types)."""
    if raw == "none":
        return None
    if isinstance(default, bool):
        if raw in ("true", "1", "yes", "on"):
            return True
        if raw in ("false", "0", "no", "off"):
            return False
        raise ValueError(f"{key} must be true or false, got {raw!r}")
    try:
        if isinstance(default, int) or default is None and raw.lstrip("-").isdigit():
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ValueError(f"{key} must be a number like {render(default)}, got {raw!r}") from None
    if isinstance(default, (list, tuple)):
        kind = type(default[0]) if default else str
        items = [parse(key, item, kind()) if kind is not str else item for item in raw.split("|")]
        return type(default)(items)
    return raw


def field_default(field):
    if field.default is not dataclasses.MISSING:
        return field.default
    if field.default_factory is not dataclasses.MISSING:
        return field.default_factory()
    raise ValueError(f"config field {field.name} has no default")


class Task:
    def __init__(self, name, params):
        if name not in DATASETS:
            close = sorted(n for n in DATASETS if n[:3] == name[:3])
            raise ValueError(f"unknown reasoning-gym dataset {name!r}" + (f" (did you mean {', '.join(close)}?)" if close else ""))
        _, config_cls = DATASETS[name]
        fields = {f.name: f for f in dataclasses.fields(config_cls)}
        if "answer" in fields:
            raise ValueError(f"{name} has a config field 'answer', which the adapter's own parameter shadows")
        values = {k: field_default(f) for k, f in fields.items()}
        values["seed"] = 0
        self.answer = params.pop("answer", "raw")
        if self.answer not in ANSWER_MODES:
            raise ValueError(f"answer must be one of {', '.join(ANSWER_MODES)}, got {self.answer!r}")
        for key, raw in params.items():
            if key not in fields:
                raise ValueError(f"unknown parameter {key!r} of {name} (valid: {', '.join(sorted(fields) + ['answer'])})")
            values[key] = parse(key, raw, values[key])
        if not isinstance(values["seed"], int) or not isinstance(values["size"], int) or values["size"] < 1:
            raise ValueError("seed must be an integer and size a positive integer (problems must be reproducible)")
        self.dataset = reasoning_gym.create_dataset(name, **values)
        self.size = int(values["size"])
        self.name = "rg:" + name
        self.version = f"reasoning-gym-{importlib.metadata.version('reasoning-gym')}+rlhub-rg-{ADAPTER_REVISION}"
        self.params = {k: render(v) for k, v in values.items()}
        self.params["answer"] = self.answer
        self.reward_range = (0.0, 1.0)
        self.max_turns = 1
        self.chosen = {}
        wrapper = len("<answer></answer>") if self.answer == "tag" else 0
        self.max_new_tokens = max(len(self.entry("train", i)[1]["answer"]) for i in range(32)) + wrapper + 8

    def entry(self, split, index):
        """(dataset index, item) of problem `index` of `split`."""
        if (split, index) not in self.chosen:
            for k in range(10_000):
                i = sha_int(f"{split}/{index}/{k}") % self.size
                item = self.dataset[i]
                if split_of(item["question"]) == split:
                    self.chosen[(split, index)] = (i, item)
                    break
            else:
                raise ValueError(f"no {split} problem in 10000 candidates (size={self.size} too small?)")
        return self.chosen[(split, index)]

    def extract(self, reply):
        text = reply.replace("<|im_end|>", "")
        return extract_answer(text) if self.answer == "tag" else text.strip()

    def environment(self):
        return Episode(self)

    def problem_key(self, split, index):
        return self.entry(split, index)[1]["question"]

    def demonstration(self, split, index, seed):
        _, item = self.entry(split, index)
        if min(1.0, self.dataset.score_answer(item["answer"], item)) < 1.0:
            return None  # the oracle answer does not score 1: no gold demonstration
        reply = f"<answer>{item['answer']}</answer>" if self.answer == "tag" else item["answer"]
        return [{"role": "user", "content": item["question"]}, {"role": "assistant", "content": reply}]


class Episode:
    def __init__(self, task):
        self.task = task

    def reset(self, seed, split, index):
        self.index, self.item = self.task.entry(split, index)
        return self.item["question"]

    def step(self, text):
        answer = self.task.extract(text)
        # Clamped: score_answer's float arithmetic can return 1.0000000000000002 (spell_backward).
        reward = min(1.0, max(0.0, float(self.task.dataset.score_answer(answer, self.item)))) if answer else 0.0
        outcome = "malformed" if not answer else "correct" if reward == 1.0 else "wrong"
        info = {"outcome": outcome, "turn": 1, "parsed": answer or "", "expected": self.item["answer"], "rg_index": self.index}
        return None, reward, True, info


def make_task(name, params):
    return Task(name, dict(params))
