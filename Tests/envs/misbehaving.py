#!/usr/bin/env python3
"""A protocol-1 environment that misbehaves on purpose (`--task cmd:Tests/envs/misbehaving.py:mode=M`).

It answers `hello` and `reset` correctly (one user message per episode), then on the first `step`:
crash (a line on stderr, exit 3), hang (sleeps), malformed (a line that is not JSON), wrong_episode
(answers for other episodes), bad_reward (reward 2 in the range [0, 1]), error (reports an
error). With mode=well it plays a one-turn game: the answer "ok" earns 1. It speaks the protocol
itself (no rlhub_env.py) and exits when stdin closes.
"""
import json
import sys
import time

mode = "well"


def reply(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


for line in sys.stdin:
    request = json.loads(line)
    op, rid = request["op"], request["id"]
    if op == "hello":
        mode = request["params"].get("mode", "well")
        reply({"id": rid, "protocol": 1, "name": "misbehaving", "version": "1", "params": {"mode": mode},
               "reward_range": [0, 1], "max_turns": 1, "max_new_tokens": 4})
    elif op == "reset":
        reply({"id": rid, "episodes": [{"episode": e["episode"], "messages": [{"role": "user", "content": "say ok"}]}
                                       for e in request["episodes"]]})
    elif op == "step" and mode != "well":
        if mode == "crash":
            sys.stderr.write("boom: simulated crash\n")
            sys.stderr.flush()
            sys.exit(3)
        if mode == "hang":
            time.sleep(3600)
        if mode == "malformed":
            sys.stdout.write("this is not json\n")
            sys.stdout.flush()
        if mode == "wrong_episode":
            reply({"id": rid, "episodes": [{"episode": e["episode"] + 1, "reward": 0, "done": True}
                                           for e in request["episodes"]]})
        if mode == "bad_reward":
            reply({"id": rid, "episodes": [{"episode": e["episode"], "reward": 2, "done": True}
                                           for e in request["episodes"]]})
        if mode == "error":
            reply({"id": rid, "error": "ValueError: simulated failure"})
    elif op == "step":
        reply({"id": rid, "episodes": [{"episode": e["episode"], "reward": 1.0 if e["action"].strip() == "ok" else 0.0,
                                        "done": True, "info": {"outcome": "correct" if e["action"].strip() == "ok" else "wrong"}}
                                       for e in request["episodes"]]})
    else:
        reply({"id": rid})
