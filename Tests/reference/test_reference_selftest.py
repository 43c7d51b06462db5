"""Self-test of llama_reference.py and check_hf_folder.py on a random tiny Llama.

    python3 -m pytest Tests/reference/test_reference_selftest.py

The reference's logits are compared with a deliberately naive implementation below: one token at
a time through all layers with a growing key/value cache, scalar loops for attention, and rotary
embedding written as rotations of (x[i], x[i + d/2]) pairs instead of rotate_half.
"""

import json
import math
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from safetensors.numpy import save_file

HERE = os.path.dirname(os.path.abspath(__file__))
REFERENCE = os.path.join(HERE, "llama_reference.py")
CHECK = os.path.join(HERE, "check_hf_folder.py")

CONFIG = {
    "architectures": ["LlamaForCausalLM"],
    "model_type": "llama",
    "hidden_size": 16,
    "intermediate_size": 24,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "num_key_value_heads": 2,
    "rms_norm_eps": 1e-5,
    "rope_theta": 10000.0,
    "vocab_size": 11,
    "tie_word_embeddings": False,
}
SEQUENCES = [[1, 2, 3, 4, 5, 6], [7], [10, 0, 3, 3]]


def make_model(folder, tied=False, seed=0):
    """Writes a random tiny Llama in HF layout; returns its float64 weights."""
    c = dict(CONFIG, tie_word_embeddings=tied)
    if tied:
        c["head_dim"] = 4  # also exercise an explicit head_dim
    rng = np.random.default_rng(seed)
    h, i, v, d = c["hidden_size"], c["intermediate_size"], c["vocab_size"], 4
    q, kv = c["num_attention_heads"] * d, c["num_key_value_heads"] * d

    def matrix(rows, cols):
        return (rng.standard_normal((rows, cols)) / math.sqrt(cols)).astype(np.float32)

    def norm():
        return (1 + 0.3 * rng.standard_normal(h)).astype(np.float32)

    tensors = {"model.embed_tokens.weight": rng.standard_normal((v, h)).astype(np.float32), "model.norm.weight": norm()}
    if not tied:
        tensors["lm_head.weight"] = matrix(v, h)
    for layer in range(c["num_hidden_layers"]):
        p = f"model.layers.{layer}."
        tensors.update({
            p + "input_layernorm.weight": norm(),
            p + "post_attention_layernorm.weight": norm(),
            p + "self_attn.q_proj.weight": matrix(q, h),
            p + "self_attn.k_proj.weight": matrix(kv, h),
            p + "self_attn.v_proj.weight": matrix(kv, h),
            p + "self_attn.o_proj.weight": matrix(h, q),
            p + "mlp.gate_proj.weight": matrix(i, h),
            p + "mlp.up_proj.weight": matrix(i, h),
            p + "mlp.down_proj.weight": matrix(h, i),
        })
    os.makedirs(folder, exist_ok=True)
    save_file(tensors, os.path.join(folder, "model.safetensors"), metadata={"format": "pt"})
    with open(os.path.join(folder, "config.json"), "w") as f:
        json.dump(c, f)
    with open(os.path.join(folder, "generation_config.json"), "w") as f:
        json.dump({"bos_token_id": 1, "eos_token_id": 2}, f)
    return c, {name: t.astype(np.float64) for name, t in tensors.items()}


# --- naive implementation -------------------------------------------------------------------


def naive_rms_norm(x, weight, eps):
    mean_square = sum(value * value for value in x) / len(x)
    return np.array([value / math.sqrt(mean_square + eps) * w for value, w in zip(x, weight)])


def naive_rotate(x, position, theta):
    d = len(x)
    out = np.empty(d)
    for i in range(d // 2):
        angle = position / theta ** (2 * i / d)
        a, b = x[i], x[i + d // 2]
        out[i] = a * math.cos(angle) - b * math.sin(angle)
        out[i + d // 2] = b * math.cos(angle) + a * math.sin(angle)
    return out


def naive_logits(tokens, c, w):
    heads, kv_heads = c["num_attention_heads"], c["num_key_value_heads"]
    d = c["hidden_size"] // heads
    eps, theta = c["rms_norm_eps"], c["rope_theta"]
    caches = [([], []) for _ in range(c["num_hidden_layers"])]  # per layer: keys, values per position
    rows = []
    for t, token in enumerate(tokens):
        x = w["model.embed_tokens.weight"][token].copy()
        for layer, (keys, values) in enumerate(caches):
            p = f"model.layers.{layer}."
            xn = naive_rms_norm(x, w[p + "input_layernorm.weight"], eps)
            q = w[p + "self_attn.q_proj.weight"] @ xn
            k = w[p + "self_attn.k_proj.weight"] @ xn
            v = w[p + "self_attn.v_proj.weight"] @ xn
            keys.append([naive_rotate(k[j * d:(j + 1) * d], t, theta) for j in range(kv_heads)])
            values.append([v[j * d:(j + 1) * d] for j in range(kv_heads)])
            attended = []
            for head in range(heads):
                qh = naive_rotate(q[head * d:(head + 1) * d], t, theta)
                j = head // (heads // kv_heads)
                scores = [sum(qh[e] * keys[s][j][e] for e in range(d)) / math.sqrt(d) for s in range(t + 1)]
                top = max(scores)
                weights = [math.exp(score - top) for score in scores]
                total = sum(weights)
                attended.extend(sum(weights[s] / total * values[s][j][e] for s in range(t + 1)) for e in range(d))
            x = x + w[p + "self_attn.o_proj.weight"] @ np.array(attended)
            xn = naive_rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
            gate = w[p + "mlp.gate_proj.weight"] @ xn
            up = w[p + "mlp.up_proj.weight"] @ xn
            hidden = np.array([g / (1 + math.exp(-g)) * u for g, u in zip(gate, up)])
            x = x + w[p + "mlp.down_proj.weight"] @ hidden
        x = naive_rms_norm(x, w["model.norm.weight"], eps)
        head = w["model.embed_tokens.weight"] if c["tie_word_embeddings"] else w["lm_head.weight"]
        rows.append(head @ x)
    return np.array(rows)


def naive_logprobs(tokens, logits):
    out = []
    for t in range(len(tokens) - 1):
        row = logits[t]
        top = max(row)
        log_norm = top + math.log(sum(math.exp(z - top) for z in row))
        out.append(row[tokens[t + 1]] - log_norm)
    return np.array(out)


# --- tests ----------------------------------------------------------------------------------


def run_reference(folder, out, *extra):
    args = [sys.executable, REFERENCE, "--model", str(folder), "--out", str(out), *extra]
    for tokens in SEQUENCES:
        args += ["--tokens", ",".join(map(str, tokens))]
    subprocess.run(args, check=True)
    return np.fromfile(out, dtype="<f8")


def run_check(folder):
    result = subprocess.run([sys.executable, CHECK, str(folder)], capture_output=True, text=True)
    return result.returncode, result.stdout.strip()


@pytest.mark.parametrize("tied", [False, True])
def test_logits_match_naive_loop(tmp_path, tied):
    c, w = make_model(tmp_path / "model", tied=tied)
    got = run_reference(tmp_path / "model", tmp_path / "logits.bin")
    vocab = c["vocab_size"]
    assert got.size == sum(len(s) for s in SEQUENCES) * vocab
    start = 0
    for tokens in SEQUENCES:
        expected = naive_logits(tokens, c, w)
        actual = got[start:start + len(tokens) * vocab].reshape(len(tokens), vocab)
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10)
        assert np.abs(expected).max() > 0.1  # not trivially zero
        start += len(tokens) * vocab


def test_logprobs_match_naive_loop(tmp_path):
    c, w = make_model(tmp_path / "model")
    got = run_reference(tmp_path / "model", tmp_path / "logprobs.bin", "--logprobs")
    expected = np.concatenate([naive_logprobs(s, naive_logits(s, c, w)) for s in SEQUENCES])
    assert got.shape == expected.shape == (sum(len(s) - 1 for s in SEQUENCES),)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    assert (got < 0).all()


@pytest.mark.parametrize("tied", [False, True])
def test_check_accepts_valid_folder(tmp_path, tied):
    _, w = make_model(tmp_path / "model", tied=tied)
    code, output = run_check(tmp_path / "model")
    assert (code, output) == (0, f"ok: {len(w)} tensors, {sum(t.size for t in w.values())} parameters")
    assert len(w) == (20 if tied else 21)


def test_check_rejects_wrong_shape(tmp_path):
    make_model(tmp_path / "good")
    shutil.copytree(tmp_path / "good", tmp_path / "bad")
    from safetensors.numpy import load_file

    tensors = load_file(tmp_path / "bad" / "model.safetensors")
    tensors["model.layers.1.self_attn.k_proj.weight"] = np.zeros((16, 16), np.float32)
    save_file(tensors, tmp_path / "bad" / "model.safetensors", metadata={"format": "pt"})
    code, output = run_check(tmp_path / "bad")
    assert code == 1
    assert output.splitlines() == [
        f"{tmp_path / 'bad' / 'model.safetensors'}: model.layers.1.self_attn.k_proj.weight: shape [16, 16], expected [8, 16]"
    ]
    assert run_check(tmp_path / "good")[0] == 0


def edit_config(folder, **changes):
    path = folder / "config.json"
    config = json.loads(path.read_text())
    config.update(changes)
    path.write_text(json.dumps(config))


def resave(folder, edit, metadata={"format": "pt"}):
    from safetensors.numpy import load_file

    path = folder / "model.safetensors"
    tensors = load_file(path)
    edit(tensors)
    save_file(tensors, path, metadata=metadata)


@pytest.mark.parametrize("breakage, expected", [
    (lambda f: edit_config(f, architectures=["MistralForCausalLM"]), "architectures"),
    (lambda f: edit_config(f, model_type="mistral"), "model_type"),
    (lambda f: edit_config(f, num_key_value_heads=3), "does not divide"),
    (lambda f: edit_config(f, head_dim=8), "hidden_size 16 != num_attention_heads 4 * head_dim 8"),
    (lambda f: edit_config(f, tie_word_embeddings=True), "lm_head.weight: unexpected tensor"),
    (lambda f: (f / "generation_config.json").unlink(), "generation_config.json: missing"),
    (lambda f: (f / "generation_config.json").write_text("{"), "generation_config.json: not valid JSON"),
    (lambda f: resave(f, lambda t: t.pop("model.norm.weight")), "model.norm.weight: missing"),
    (lambda f: resave(f, lambda t: t.update(extra=np.zeros(1, np.float32))), "extra: unexpected tensor"),
    (lambda f: resave(f, lambda t: t.update({"model.norm.weight": t["model.norm.weight"].astype(np.float16)})),
     "model.norm.weight: dtype F16, expected F32"),
    (lambda f: resave(f, lambda t: None, metadata=None), "format must be \"pt\""),
    (lambda f: (f / "model.safetensors").write_bytes(b"\x10" + b"\0" * 7 + b"{}"), "cannot be read by safetensors"),
])
def test_check_reports_each_problem(tmp_path, breakage, expected):
    folder = tmp_path / "model"
    make_model(folder)
    breakage(folder)
    code, output = run_check(folder)
    assert code == 1
    assert expected in output, output


def write_tokenizer(folder, size):
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {f"t{i}": i for i in range(size - 1)} | {"[UNK]": size - 1}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.save(str(folder / "tokenizer.json"))


def test_check_loads_tokenizer_and_compares_vocab(tmp_path):
    folder = tmp_path / "model"
    make_model(folder)
    write_tokenizer(folder, 11)
    assert run_check(folder)[0] == 0
    write_tokenizer(folder, 12)
    code, output = run_check(folder)
    assert code == 1 and "vocabulary of 12 tokens exceeds config vocab_size 11" in output
    (folder / "tokenizer.json").write_text('{"not": "a tokenizer"}')
    code, output = run_check(folder)
    assert code == 1 and "tokenizers cannot load it" in output
