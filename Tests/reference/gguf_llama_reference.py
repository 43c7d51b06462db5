#!/usr/bin/env python3
"""Float64 numpy reference for llama.cpp's LLAMA forward pass on a GGUF file, as stored (no torch).

    gguf_llama_reference.py --gguf PATH --tokens 1,2,3 [--tokens 4,5 ...] [--out FILE] [--last-only]
                            [--greedy N] [--bf16]

--out FILE   raw little-endian float64 logits, sequences concatenated in --tokens order; each
             sequence is [len, vocab] row-major, or with --last-only just its last position [vocab].
--greedy N   also extends each --tokens sequence by N tokens (argmax, lowest id on ties, the whole
             sequence recomputed each step) and prints one JSON line {"continuations": [[ids...], ...]}
             holding only the N new ids per sequence. --out still holds the logits of the given
             sequences, not of the extended ones. At least one of --out and --greedy is required.

Every tensor is dequantised with gguf.quants.dequantize (float32) and then cast to float64; all
arithmetic is float64. Hyper-parameters come from the GGUF metadata (llama.* keys); the RMS-norm
epsilon is used as stored, i.e. the float32 value (1e-5 is stored as 9.999999747e-06), like llama.cpp.

Deliberately independent of the HF layout: attn_q / attn_k rows are NOT un-permuted. RoPE is applied
the way llama.cpp does for LLAMA models (rope type "norm"): each head's ADJACENT pairs
(x[2i], x[2i+1]) are rotated by pos * base^(-2i/n_rot). llama.cpp's converter permuted the q/k rows
so that this equals HF's rotate_half on the original weights, so matching a rotate_half
implementation that un-permutes validates its un-permutation. The rest follows LlamaForCausalLM:
RMSNorm, causal grouped-query attention scaled by 1/sqrt(head_dim), SwiGLU MLP, residuals, final norm,
and an LM head that is output.weight or, when absent (tied embeddings), token_embd.weight.

GGUF lists dims ne0 first (ne0 contiguous = input features), so a matrix is [ne1, ne0] = [out, in]
and y = x @ W.T.

Needs: pip install gguf numpy
"""

import argparse
import json
import math
import sys

import numpy as np
import gguf
from gguf import quants

ARCH = "llama"


def metadata(reader, key, default=None):
    field = reader.fields.get(key)
    if field is None:
        if default is None:
            sys.exit(f"GGUF metadata: {key}: missing")
        return default
    return field.contents()


def load_config(reader):
    arch = metadata(reader, "general.architecture")
    if arch != ARCH:
        sys.exit(f"GGUF metadata: general.architecture: {arch!r}, this reference supports only {ARCH!r}")
    hidden = int(metadata(reader, f"{ARCH}.embedding_length"))
    heads = int(metadata(reader, f"{ARCH}.attention.head_count"))
    head_dim = int(metadata(reader, f"{ARCH}.attention.key_length", hidden // heads))
    config = {
        "hidden": hidden,
        "intermediate": int(metadata(reader, f"{ARCH}.feed_forward_length")),
        "layers": int(metadata(reader, f"{ARCH}.block_count")),
        "heads": heads,
        "kv_heads": int(metadata(reader, f"{ARCH}.attention.head_count_kv", heads)),
        "head_dim": head_dim,
        "rope_dims": int(metadata(reader, f"{ARCH}.rope.dimension_count", head_dim)),
        "theta": float(metadata(reader, f"{ARCH}.rope.freq_base", 10000.0)),
        "eps": float(metadata(reader, f"{ARCH}.attention.layer_norm_rms_epsilon")),
    }
    value_dim = int(metadata(reader, f"{ARCH}.attention.value_length", head_dim))
    scaling = metadata(reader, f"{ARCH}.rope.scaling.type", "none")
    problems = {
        "attention.value_length": value_dim != head_dim,
        "attention.head_count_kv (must divide head_count)": heads % config["kv_heads"] != 0,
        "rope.dimension_count (must be even and <= head dim)":
            config["rope_dims"] % 2 or config["rope_dims"] > head_dim,
        "rope.scaling.type": scaling != "none",
    }
    for key, unsupported in problems.items():
        if unsupported:
            sys.exit(f"GGUF metadata: {ARCH}.{key}: not supported by this reference")
    return config


def dequantize(tensor):
    """float64 array with numpy shape (..., ne1, ne0), i.e. GGUF's dims reversed."""
    values = quants.dequantize(tensor.data, tensor.tensor_type)
    return values.reshape([int(n) for n in reversed(tensor.shape)]).astype(np.float64)


def load_weights(reader):
    """Dict of GGUF tensor name -> dequantised float64 array; matrices are [out, in] = [ne1, ne0]."""
    return {t.name: dequantize(t) for t in reader.tensors}


def lm_head(w):
    """output.weight, or token_embd.weight when the embeddings are tied (no output.weight)."""
    return w.get("output.weight", w["token_embd.weight"])


def check_weights(w, config, reader):
    """Exits unless the tensor names and shapes are those of a LLAMA model; sets config["vocab"]."""
    c, d = config, config["head_dim"]
    shapes = {"token_embd.weight": (None, c["hidden"]), "output_norm.weight": (c["hidden"],)}
    if "output.weight" in w:
        shapes["output.weight"] = (None, c["hidden"])
    for i in range(c["layers"]):
        p = f"blk.{i}."
        shapes.update({
            p + "attn_norm.weight": (c["hidden"],), p + "ffn_norm.weight": (c["hidden"],),
            p + "attn_q.weight": (c["heads"] * d, c["hidden"]), p + "attn_k.weight": (c["kv_heads"] * d, c["hidden"]),
            p + "attn_v.weight": (c["kv_heads"] * d, c["hidden"]), p + "attn_output.weight": (c["hidden"], c["heads"] * d),
            p + "ffn_gate.weight": (c["intermediate"], c["hidden"]), p + "ffn_up.weight": (c["intermediate"], c["hidden"]),
            p + "ffn_down.weight": (c["hidden"], c["intermediate"]),
        })
    unexpected, missing = sorted(set(w) - set(shapes)), sorted(set(shapes) - set(w))
    if unexpected or missing:
        sys.exit(f"GGUF tensors: unexpected {unexpected}, missing {missing}")
    for name, shape in shapes.items():
        actual = w[name].shape
        if len(actual) != len(shape) or any(e is not None and e != a for e, a in zip(shape, actual)):
            sys.exit(f"GGUF tensors: {name}: shape [out, in] {list(actual)}, expected {list(shape)}")
    vocab = w["token_embd.weight"].shape[0]
    config["vocab"] = int(metadata(reader, f"{ARCH}.vocab_size", vocab))
    if config["vocab"] != vocab or lm_head(w).shape[0] != vocab:
        sys.exit(f"GGUF: {ARCH}.vocab_size {config['vocab']} disagrees with the token_embd/output rows")


BF16 = False


def to_bf16(x):
    """float64 -> float32 -> bfloat16 (round to nearest even on the bit pattern) -> float64."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


def linear(x, weight):
    """weight is [out, in] (ne1, ne0)."""
    if BF16:
        return to_bf16(x) @ to_bf16(weight).T
    return x @ weight.T


def rms_norm(x, weight, eps):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps) * weight


def rope_norm(x, positions, theta, rope_dims):
    """llama.cpp rope type "norm": x [heads, len, head_dim]; rotates adjacent pairs (x[2i], x[2i+1])
    of the first rope_dims dims by pos * theta^(-2i/rope_dims); the remaining dims pass through."""
    angles = np.outer(positions, theta ** (-np.arange(0, rope_dims, 2, dtype=np.float64) / rope_dims))
    cos, sin = np.cos(angles), np.sin(angles)  # [len, rope_dims/2]
    even, odd = x[..., 0:rope_dims:2], x[..., 1:rope_dims:2]
    out = x.copy()
    out[..., 0:rope_dims:2] = even * cos - odd * sin
    out[..., 1:rope_dims:2] = even * sin + odd * cos
    return out


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(x, w, prefix, c):
    """Causal grouped-query self-attention of one sequence x: [len, hidden]."""
    length, d = x.shape[0], c["head_dim"]
    q = linear(x, w[prefix + "attn_q.weight"]).reshape(length, c["heads"], d).transpose(1, 0, 2)
    k = linear(x, w[prefix + "attn_k.weight"]).reshape(length, c["kv_heads"], d).transpose(1, 0, 2)
    v = linear(x, w[prefix + "attn_v.weight"]).reshape(length, c["kv_heads"], d).transpose(1, 0, 2)
    positions = np.arange(length, dtype=np.float64)
    q = rope_norm(q, positions, c["theta"], c["rope_dims"])
    k = rope_norm(k, positions, c["theta"], c["rope_dims"])
    group = c["heads"] // c["kv_heads"]  # kv head g serves query heads g*group .. (g+1)*group-1
    k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
    scores = np.where(np.tril(np.ones((length, length), dtype=bool)), scores, -np.inf)
    out = softmax(scores) @ v  # [heads, len, head_dim]
    return linear(out.transpose(1, 0, 2).reshape(length, c["heads"] * d), w[prefix + "attn_output.weight"])


def silu(x):
    return x / (1.0 + np.exp(-x))


def feed_forward(x, w, prefix):
    gate = linear(x, w[prefix + "ffn_gate.weight"])
    up = linear(x, w[prefix + "ffn_up.weight"])
    return linear(silu(gate) * up, w[prefix + "ffn_down.weight"])


def block(x, w, i, c):
    prefix = f"blk.{i}."
    x = x + attention(rms_norm(x, w[prefix + "attn_norm.weight"], c["eps"]), w, prefix, c)
    return x + feed_forward(rms_norm(x, w[prefix + "ffn_norm.weight"], c["eps"]), w, prefix)


def final_hidden(tokens, w, c):
    """[len, hidden] output of the final norm for one token sequence."""
    x = w["token_embd.weight"][tokens]
    for i in range(c["layers"]):
        x = block(x, w, i, c)
    return rms_norm(x, w["output_norm.weight"], c["eps"])


def logits(tokens, w, c, last_only=False):
    """[len, vocab] logits of one sequence, or [1, vocab] for its last position."""
    h = final_hidden(tokens, w, c)
    return linear(h[-1:] if last_only else h, lm_head(w))


def greedy(tokens, steps, w, c):
    """The `steps` ids appended by argmax decoding (np.argmax picks the lowest id on ties)."""
    sequence = list(tokens)
    for _ in range(steps):
        sequence.append(int(np.argmax(logits(np.array(sequence), w, c, last_only=True)[0])))
    return sequence[len(tokens):]


def parse_tokens(text, vocab):
    try:
        tokens = [int(t) for t in text.split(",") if t.strip()]
    except ValueError:
        tokens = []
    if not tokens or min(tokens) < 0 or max(tokens) >= vocab:
        sys.exit(f"--tokens {text}: need at least one comma-separated id, each in 0..<{vocab}")
    return np.array(tokens, dtype=np.int64)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gguf", required=True, help="GGUF model file (general.architecture llama)")
    parser.add_argument("--tokens", action="append", required=True, help="comma-separated ids; repeatable")
    parser.add_argument("--out", help="output file (raw little-endian float64 logits)")
    parser.add_argument("--last-only", action="store_true", help="write only each sequence's last position")
    parser.add_argument("--greedy", type=int, metavar="N", help="print N greedy continuation ids per sequence")
    parser.add_argument("--bf16", action="store_true", help="round the inputs of every linear layer to bfloat16")
    args = parser.parse_args()
    global BF16
    BF16 = args.bf16
    if args.out is None and args.greedy is None:
        parser.error("need --out and/or --greedy")
    if args.greedy is not None and args.greedy < 0:
        parser.error("--greedy must be >= 0")

    reader = gguf.GGUFReader(args.gguf)
    config = load_config(reader)
    weights = load_weights(reader)
    check_weights(weights, config, reader)
    sequences = [parse_tokens(text, config["vocab"]) for text in args.tokens]

    if args.out is not None:
        results = [logits(tokens, weights, config, args.last_only) for tokens in sequences]
        np.concatenate([r.ravel() for r in results]).astype("<f8").tofile(args.out)
    if args.greedy is not None:
        continuations = [greedy(tokens, args.greedy, weights, config) for tokens in sequences]
        print(json.dumps({"continuations": continuations}))


if __name__ == "__main__":
    main()
