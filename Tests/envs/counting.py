"""A multi-turn test environment for rlhub_env.py (`--task py:Tests/envs/counting.py`).

Count up from the start number: the prompt asks for the next number, each right number gets a
`tool` observation asking for the next one, `turns` right numbers earn 1, a wrong one ends the
episode with 0. Problem `index` of a split starts at 2 * index (train) or 2 * index + 1 (test), so
the splits are disjoint. `delay` seconds of sleep per step make a slow environment.
"""
import time


class Task:
    def __init__(self, params):
        self.turns = int(params.pop("turns", "3"))
        self.delay = float(params.pop("delay", "0"))
        if params:
            raise ValueError(f"unknown parameters {sorted(params)}")
        self.name = "counting"
        self.version = "1.0"
        self.params = {"turns": str(self.turns), "delay": str(self.delay)}
        self.reward_range = (0.0, 1.0)
        self.max_turns = self.turns
        self.max_new_tokens = 8

    @staticmethod
    def start(split, index):
        return 2 * index + (1 if split == "test" else 0)

    def environment(self):
        return Episode(self)

    def problem_key(self, split, index):
        return str(self.start(split, index))

    def demonstration(self, split, index, seed):
        n = self.start(split, index)
        messages = [{"role": "user", "content": f"Count on from {n}."}]
        for turn in range(1, self.turns + 1):
            messages.append({"role": "assistant", "content": str(n + turn)})
            if turn < self.turns:
                messages.append({"role": "tool", "content": f"ok, next after {n + turn}"})
        return messages


class Episode:
    def __init__(self, task):
        self.task = task

    def reset(self, seed, split, index):
        self.next = self.task.start(split, index) + 1
        self.turn = 0
        return f"Count on from {self.next - 1}."

    def step(self, text):
        time.sleep(self.task.delay)
        self.turn += 1
        info = {"turn": self.turn, "expected": self.next, "parsed": text.strip()}
        if text.strip() != str(self.next):
            return None, 0.0, True, dict(info, outcome="wrong")
        if self.turn == self.task.turns:
            return None, 1.0, True, dict(info, outcome="correct")
        self.next += 1
        return [{"role": "tool", "content": f"ok, next after {self.next - 1}"}], 0.0, False, dict(info, outcome="ongoing")


def make_task(params):
    return Task(dict(params))
