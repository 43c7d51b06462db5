#!/usr/bin/env python3
"""Float64 numpy reference for HF transformers' LlamaForCausalLM (no torch).

    llama_reference.py --model DIR --tokens 1,2,3 [--tokens 4,5 ...] --out FILE [--logprobs] [--bf16]
                       [--adapter PEFT_DIR]

Reads DIR/config.json and DIR/model.safetensors (or a sharded model.safetensors.index.json) with
HF tensor names, and writes FILE as raw little-endian float64, sequences concatenated:
  default     each sequence's logits, [len, vocab] row-major;
  --logprobs  each sequence's log-softmax of the logits at position t gathered at token t+1
              (len-1 values).

--bf16      emulates bf16 matrix products: the two inputs of every linear layer (the LM head included)
            are rounded to bfloat16 (round to nearest even on the float32 bit pattern) before the
            float64 product; attention, norms and softmax stay float64 (rlhub's `rollout_dtype=bf16`).

--adapter   merges a LoRA adapter saved in PEFT's layout (adapter_config.json: r, lora_alpha,
            target_modules; adapter_model.safetensors: base_model.model.<module>.lora_A.weight (r, in) and
            .lora_B.weight (out, r)) into the base, as PEFT's merge_and_unload does:
            W <- W + (lora_alpha / r) * B @ A, in float64.

The maths follows modeling_llama.py, but everything is float64: HF itself computes the rotary
cos/sin in float32 even for a float64 model, so HF logits differ from these by ~1e-7 relative.
"""

import argparse
import json
import math
import os
import sys

import numpy as np
from safetensors.numpy import load_file


def load_config(folder):
    with open(os.path.join(folder, "config.json")) as f:
        raw = json.load(f)
    heads = raw["num_attention_heads"]
    config = {
        "hidden": raw["hidden_size"],
        "intermediate": raw["intermediate_size"],
        "layers": raw["num_hidden_layers"],
        "heads": heads,
        "kv_heads": raw.get("num_key_value_heads") or heads,
        "head_dim": raw.get("head_dim") or raw["hidden_size"] // heads,
        "eps": raw.get("rms_norm_eps", 1e-6),
        "theta": raw.get("rope_theta") or (raw.get("rope_parameters") or {}).get("rope_theta", 10000.0),
        "vocab": raw["vocab_size"],
        "tied": raw.get("tie_word_embeddings", False),
    }
    scaling = raw.get("rope_scaling") or {}
    problems = {
        "rope_scaling": scaling.get("rope_type", scaling.get("type", "default")) != "default",
        "attention_bias": raw.get("attention_bias", False),
        "mlp_bias": raw.get("mlp_bias", False),
        "hidden_act": raw.get("hidden_act", "silu") != "silu",
    }
    for key, unsupported in problems.items():
        if unsupported:
            sys.exit(f"{folder}/config.json: {key}: {raw[key]!r} is not supported by this reference")
    return config


def load_weights(folder):
    single = os.path.join(folder, "model.safetensors")
    if os.path.exists(single):
        tensors = load_file(single)
    else:
        with open(os.path.join(folder, "model.safetensors.index.json")) as f:
            shards = sorted(set(json.load(f)["weight_map"].values()))
        tensors = {}
        for shard in shards:
            tensors.update(load_file(os.path.join(folder, shard)))
    return {name: value.astype(np.float64) for name, value in tensors.items()}


def merge_adapter(weights, folder):
    """W <- W + (alpha / r) * B @ A for every adapted module (PEFT's LoRA, no rsLoRA or DoRA)."""
    with open(os.path.join(folder, "adapter_config.json")) as f:
        cfg = json.load(f)
    if cfg.get("peft_type") != "LORA" or cfg.get("use_rslora") or cfg.get("use_dora"):
        sys.exit(f"{folder}/adapter_config.json: only plain LoRA is supported by this reference")
    scale = cfg["lora_alpha"] / cfg["r"]
    tensors = load_file(os.path.join(folder, "adapter_model.safetensors"))
    merged = 0
    for name, a in tensors.items():
        if not name.endswith(".lora_A.weight"):
            continue
        module = name[len("base_model.model."):-len(".lora_A.weight")]
        b = tensors[name.replace(".lora_A.", ".lora_B.")]
        if a.shape[0] != cfg["r"] or b.shape[1] != cfg["r"]:
            sys.exit(f"{folder}/adapter_model.safetensors: {name}: rank {a.shape[0]} != r {cfg['r']}")
        weights[module + ".weight"] = weights[module + ".weight"] + scale * (
            b.astype(np.float64) @ a.astype(np.float64))
        merged += 1
    if merged == 0:
        sys.exit(f"{folder}/adapter_model.safetensors: no lora_A tensors")
    return weights


BF16 = False


def to_bf16(x):
    """float64 -> float32 -> bfloat16 (round to nearest even on the bit pattern) -> float64."""
    bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
    rounded = ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16) << 16
    return rounded.astype(np.uint32).view(np.float32).astype(np.float64)


def linear(x, weight):
    """HF stores weights [out, in]."""
    if BF16:
        return to_bf16(x) @ to_bf16(weight).T
    return x @ weight.T


def rms_norm(x, weight, eps):
    return x * (1.0 / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + eps)) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return np.concatenate([-x[..., half:], x[..., :half]], axis=-1)


def rotary(x, positions, theta):
    """x: [heads, len, head_dim]; the HF convention (halves, not interleaved pairs)."""
    dim = x.shape[-1]
    inv_freq = 1.0 / theta ** (np.arange(0, dim, 2, dtype=np.float64) / dim)
    freqs = np.outer(positions, inv_freq)
    emb = np.concatenate([freqs, freqs], axis=-1)
    return x * np.cos(emb) + rotate_half(x) * np.sin(emb)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def attention(x, w, prefix, c):
    """Grouped-query causal self-attention of one sequence x: [len, hidden]."""
    length, d = x.shape[0], c["head_dim"]
    q = linear(x, w[prefix + "q_proj.weight"]).reshape(length, c["heads"], d).transpose(1, 0, 2)
    k = linear(x, w[prefix + "k_proj.weight"]).reshape(length, c["kv_heads"], d).transpose(1, 0, 2)
    v = linear(x, w[prefix + "v_proj.weight"]).reshape(length, c["kv_heads"], d).transpose(1, 0, 2)
    positions = np.arange(length, dtype=np.float64)
    q, k = rotary(q, positions, c["theta"]), rotary(k, positions, c["theta"])
    group = c["heads"] // c["kv_heads"]  # query head h reads kv head h // group
    k, v = np.repeat(k, group, axis=0), np.repeat(v, group, axis=0)
    scores = q @ k.transpose(0, 2, 1) / math.sqrt(d)
    scores = np.where(np.tril(np.ones((length, length), dtype=bool)), scores, -np.inf)
    out = softmax(scores) @ v  # [heads, len, head_dim]
    return linear(out.transpose(1, 0, 2).reshape(length, c["heads"] * d), w[prefix + "o_proj.weight"])


def silu(x):
    return x / (1.0 + np.exp(-x))


def mlp(x, w, prefix):
    gate = linear(x, w[prefix + "gate_proj.weight"])
    up = linear(x, w[prefix + "up_proj.weight"])
    return linear(silu(gate) * up, w[prefix + "down_proj.weight"])


def decoder_layer(x, w, i, c):
    prefix = f"model.layers.{i}."
    x = x + attention(rms_norm(x, w[prefix + "input_layernorm.weight"], c["eps"]), w, prefix + "self_attn.", c)
    return x + mlp(rms_norm(x, w[prefix + "post_attention_layernorm.weight"], c["eps"]), w, prefix + "mlp.")


def logits(tokens, w, c):
    """[len, vocab] logits of one token sequence."""
    x = w["model.embed_tokens.weight"][tokens]
    for i in range(c["layers"]):
        x = decoder_layer(x, w, i, c)
    x = rms_norm(x, w["model.norm.weight"], c["eps"])
    head = w["model.embed_tokens.weight"] if c["tied"] else w["lm_head.weight"]
    return linear(x, head)


def next_token_logprobs(tokens, sequence_logits):
    """log softmax(logits[t])[tokens[t+1]] for t < len-1."""
    z = sequence_logits[:-1]
    top = z.max(axis=-1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(z - top).sum(axis=-1))
    return z[np.arange(len(tokens) - 1), tokens[1:]] - log_norm


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", required=True, help="HF-layout folder")
    parser.add_argument("--tokens", action="append", required=True, help="comma-separated ids; repeatable")
    parser.add_argument("--out", required=True, help="output file (raw little-endian float64)")
    parser.add_argument("--logprobs", action="store_true", help="write next-token log-probs instead of logits")
    parser.add_argument("--bf16", action="store_true", help="round the inputs of every linear layer to bfloat16")
    parser.add_argument("--adapter", help="PEFT LoRA adapter folder, merged into the model first")
    args = parser.parse_args()
    global BF16
    BF16 = args.bf16

    config = load_config(args.model)
    weights = load_weights(args.model)
    if args.adapter:
        weights = merge_adapter(weights, args.adapter)
    results = []
    for text in args.tokens:
        tokens = np.array([int(t) for t in text.split(",") if t.strip()], dtype=np.int64)
        if len(tokens) == 0 or tokens.min() < 0 or tokens.max() >= config["vocab"]:
            sys.exit(f"--tokens {text}: need at least one id, each in 0..<{config['vocab']}")
        sequence_logits = logits(tokens, weights, config)
        results.append(next_token_logprobs(tokens, sequence_logits) if args.logprobs else sequence_logits)
    np.concatenate([r.ravel() for r in results]).astype("<f8").tofile(args.out)


if __name__ == "__main__":
    main()
