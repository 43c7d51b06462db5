#!/usr/bin/env python3
"""Serves a Python environment to rlhub over the JSON Lines protocol of docs/environments.md.

    python3 rlhub_env.py rg NAME          reasoning-gym dataset NAME (rlhub_rg.py)
    python3 rlhub_env.py module FILE.py   any module with make_task(params) (see the docs)

Standard library only. One request line on stdin gets one reply line on stdout. The process exits
when stdin closes or when its parent (rlhub) dies, even by SIGKILL: a thread watches the parent
pid, so a hung environment cannot outlive the run.
"""
import importlib.util
import json
import os
import sys
import threading
import time
import traceback

PROTOCOL = 1


def watch_parent(parent):
    """Exits at once when the parent process is gone (reparented: getppid changes)."""
    while True:
        if os.getppid() != parent:
            os._exit(70)
        time.sleep(0.2)


def load_task(kind, target, params):
    """The task object of `kind` (rg or module) for `target`, made with the string params."""
    if kind == "rg":
        sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        import rlhub_rg
        return rlhub_rg.make_task(target, params)
    if kind == "module":
        spec = importlib.util.spec_from_file_location("rlhub_user_env", target)
        if spec is None:
            raise ValueError(f"cannot load {target}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module.make_task(params)
    raise ValueError(f"unknown kind {kind!r} (valid: rg, module)")


def as_messages(value):
    """A reset/observation value as a list of {role, content}: a string is one user message."""
    if value is None:
        return None
    if isinstance(value, str):
        return [{"role": "user", "content": value}]
    return [{"role": str(m["role"]), "content": str(m["content"])} for m in value]


class Server:
    def __init__(self, kind, target):
        self.kind, self.target = kind, target
        self.task = None
        self.episodes = {}

    def hello(self, request):
        if request.get("protocol") != PROTOCOL:
            raise ValueError(f"protocol {request.get('protocol')} asked, this server speaks {PROTOCOL}")
        params = {str(k): str(v) for k, v in (request.get("params") or {}).items()}
        self.task = load_task(self.kind, self.target, params)
        t = self.task
        return {
            "protocol": PROTOCOL, "name": t.name, "version": t.version,
            "params": {str(k): str(v) for k, v in t.params.items()},
            "reward_range": list(t.reward_range), "max_turns": int(t.max_turns),
            "max_new_tokens": int(t.max_new_tokens),
        }

    def reset(self, request):
        out = []
        for e in request["episodes"]:
            env = self.task.environment()
            messages = as_messages(env.reset(int(e["seed"]), str(e["split"]), int(e["index"])))
            self.episodes[e["episode"]] = env
            out.append({"episode": e["episode"], "messages": messages})
        return {"episodes": out}

    def step(self, request):
        out = []
        for e in request["episodes"]:
            env = self.episodes[e["episode"]]
            observation, reward, done, info = env.step(str(e["action"]))
            if done:
                del self.episodes[e["episode"]]
            out.append({
                "episode": e["episode"], "observation": None if done else as_messages(observation),
                "reward": float(reward), "done": bool(done),
                "info": {str(k): str(v) for k, v in (info or {}).items()},
            })
        return {"episodes": out}

    def problems(self, request):
        out = []
        for p in request["problems"]:
            split, index, seed = str(p["split"]), int(p["index"]), int(p["seed"])
            demo = getattr(self.task, "demonstration", None)
            key = getattr(self.task, "problem_key", None)
            out.append({
                "key": key(split, index) if key else None,
                "demonstration": as_messages(demo(split, index, seed)) if demo else None,
            })
        return {"problems": out}

    def close(self, request):
        for episode in request["episodes"]:
            self.episodes.pop(episode, None)
        return {}

    def handle(self, request):
        op = request.get("op")
        if op not in ("hello", "reset", "step", "problems", "close"):
            raise ValueError(f"unknown op {op!r}")
        if op != "hello" and self.task is None:
            raise ValueError("hello must come first")
        return getattr(self, op)(request)


def main(argv):
    if len(argv) != 3:
        sys.stderr.write(__doc__)
        return 2
    threading.Thread(target=watch_parent, args=(os.getppid(),), daemon=True).start()
    # The protocol owns the real stdout; anything the environment prints goes to stderr.
    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    server = Server(argv[1], argv[2])
    for line in sys.stdin.buffer:
        request = json.loads(line)
        try:
            reply = server.handle(request)
        except Exception as e:  # reported to rlhub, which fails the run with this line
            traceback.print_exc(file=sys.stderr)
            reply = {"error": f"{type(e).__name__}: {e}".replace("\n", " ")}
        reply["id"] = request.get("id")
        out.write(json.dumps(reply, ensure_ascii=False, separators=(",", ":")) + "\n")
        out.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
