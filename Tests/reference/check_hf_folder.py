#!/usr/bin/env python3
"""Checks that a folder loads in HF transformers as LlamaForCausalLM without conversion.

    check_hf_folder.py DIR

Checks config.json (architecture, model type, consistent head counts), model.safetensors (every
expected tensor present with its shape, dtype F32, nothing else, and the {"format": "pt"} metadata
transformers requires), generation_config.json, and tokenizer.json if present. Prints
"ok: N tensors, P parameters" and exits 0, or prints one line per problem and exits 1.
"""

import json
import math
import os
import sys

from safetensors import safe_open


def read_json(path, problems):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        problems.append(f"{path}: missing")
    except (OSError, ValueError) as error:
        problems.append(f"{path}: not valid JSON ({error})")
    return None


def positive_int(raw, key, path, problems, default=None):
    value = raw.get(key)
    if value is None:
        value = default
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems.append(f"{path}: {key}: must be a positive integer, got {value!r}")
        return None
    return value


def check_config(folder, problems):
    """The config's sizes, or None if they are unusable (problems says why)."""
    path = os.path.join(folder, "config.json")
    raw = read_json(path, problems)
    if raw is None:
        return None
    if not isinstance(raw, dict):
        problems.append(f"{path}: must be a JSON object")
        return None
    if raw.get("architectures") != ["LlamaForCausalLM"]:
        problems.append(f'{path}: architectures: must be ["LlamaForCausalLM"], got {raw.get("architectures")!r}')
    if raw.get("model_type") != "llama":
        problems.append(f'{path}: model_type: must be "llama", got {raw.get("model_type")!r}')
    for key in ("rms_norm_eps", "rope_theta"):
        value = raw.get(key)
        if key in raw and (isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0):
            problems.append(f"{path}: {key}: must be a positive number, got {value!r}")
    tied = raw.get("tie_word_embeddings", False)  # LlamaConfig's default
    if not isinstance(tied, bool):
        problems.append(f"{path}: tie_word_embeddings: must be true or false, got {tied!r}")

    c = {key: positive_int(raw, name, path, problems) for key, name in [
        ("hidden", "hidden_size"), ("intermediate", "intermediate_size"), ("layers", "num_hidden_layers"),
        ("heads", "num_attention_heads"), ("vocab", "vocab_size")]}
    if c["hidden"] is None or c["heads"] is None:
        return None
    c["kv_heads"] = positive_int(raw, "num_key_value_heads", path, problems, default=c["heads"])
    c["head_dim"] = positive_int(raw, "head_dim", path, problems, default=c["hidden"] // c["heads"])
    c["tied"] = tied is True
    if None in c.values():
        return None
    if c["hidden"] != c["heads"] * c["head_dim"]:
        problems.append(f"{path}: head_dim: hidden_size {c['hidden']} != num_attention_heads {c['heads']} * head_dim {c['head_dim']}")
    if c["heads"] % c["kv_heads"] != 0:
        problems.append(f"{path}: num_key_value_heads: {c['kv_heads']} does not divide num_attention_heads {c['heads']}")
    return c


def expected_shapes(c):
    h, d = c["hidden"], c["head_dim"]
    shapes = {"model.embed_tokens.weight": (c["vocab"], h), "model.norm.weight": (h,)}
    if not c["tied"]:
        shapes["lm_head.weight"] = (c["vocab"], h)
    for i in range(c["layers"]):
        p = f"model.layers.{i}."
        shapes.update({
            p + "input_layernorm.weight": (h,),
            p + "post_attention_layernorm.weight": (h,),
            p + "self_attn.q_proj.weight": (c["heads"] * d, h),
            p + "self_attn.k_proj.weight": (c["kv_heads"] * d, h),
            p + "self_attn.v_proj.weight": (c["kv_heads"] * d, h),
            p + "self_attn.o_proj.weight": (h, c["heads"] * d),
            p + "mlp.gate_proj.weight": (c["intermediate"], h),
            p + "mlp.up_proj.weight": (c["intermediate"], h),
            p + "mlp.down_proj.weight": (h, c["intermediate"]),
        })
    return shapes


def check_tensors(folder, c, problems):
    """{name: shape} of model.safetensors, after checking it against the config."""
    path = os.path.join(folder, "model.safetensors")
    if not os.path.exists(path):
        problems.append(f"{path}: missing")
        return {}
    try:
        with safe_open(path, framework="numpy") as f:
            metadata = f.metadata() or {}
            found = {name: (tuple(f.get_slice(name).get_shape()), f.get_slice(name).get_dtype()) for name in f.keys()}
    except Exception as error:  # the safetensors library's own validation
        problems.append(f"{path}: cannot be read by safetensors ({error})")
        return {}
    if metadata.get("format") != "pt":
        problems.append(f'{path}: __metadata__: format must be "pt" (transformers refuses the file otherwise), got {metadata.get("format")!r}')
    if c is None:
        return {name: shape for name, (shape, _) in found.items()}
    expected = expected_shapes(c)
    for name in sorted(expected.keys() - found.keys()):
        problems.append(f"{path}: {name}: missing (expected shape {list(expected[name])})")
    for name in sorted(found.keys() - expected.keys()):
        why = " (tie_word_embeddings is true)" if name == "lm_head.weight" else ""
        problems.append(f"{path}: {name}: unexpected tensor{why}")
    for name in sorted(found.keys() & expected.keys()):
        shape, dtype = found[name]
        if shape != expected[name]:
            problems.append(f"{path}: {name}: shape {list(shape)}, expected {list(expected[name])}")
        if dtype != "F32":
            problems.append(f"{path}: {name}: dtype {dtype}, expected F32")
    return {name: shape for name, (shape, _) in found.items()}


def check_generation_config(folder, problems):
    path = os.path.join(folder, "generation_config.json")
    raw = read_json(path, problems)
    if raw is not None and not isinstance(raw, dict):
        problems.append(f"{path}: must be a JSON object")


def check_tokenizer(folder, c, problems):
    path = os.path.join(folder, "tokenizer.json")
    if not os.path.exists(path):
        return
    from tokenizers import Tokenizer

    try:
        size = Tokenizer.from_file(path).get_vocab_size(with_added_tokens=True)
    except Exception as error:
        problems.append(f"{path}: tokenizers cannot load it ({error})")
        return
    if c is not None and size > c["vocab"]:
        problems.append(f"{path}: vocabulary of {size} tokens exceeds config vocab_size {c['vocab']}")


def check_folder(folder):
    """(problems, tensor count, parameter count)."""
    problems = []
    config = check_config(folder, problems)
    shapes = check_tensors(folder, config, problems)
    check_generation_config(folder, problems)
    check_tokenizer(folder, config, problems)
    parameters = sum(math.prod(shape) for shape in shapes.values())
    return problems, len(shapes), parameters


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_hf_folder.py DIR")
    problems, tensors, parameters = check_folder(sys.argv[1])
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"ok: {tensors} tensors, {parameters} parameters")


if __name__ == "__main__":
    main()
