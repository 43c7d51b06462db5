#!/usr/bin/env python3
"""Reference data for rlhub's GGUF reader (Tests/LMTests/GGUFTests.swift), made with the `gguf` package.

    python3 Tests/reference/gguf_reference.py synth OUTDIR
        Writes OUTDIR/synth.gguf (metadata of every value type, one tensor per ggml type), then reads it
        back with gguf.GGUFReader and writes, per tensor, OUTDIR/<name>.f32 (gguf.quants.dequantize,
        float32 little-endian, row-major with ne0 contiguous) and OUTDIR/synth.json (tensor list and
        the metadata types as GGUFReader sees them).

    python3 Tests/reference/gguf_reference.py real MODEL.gguf OUTDIR
        Dequantises a few tensors of a real model (first rows of token_embd.weight, blk.0.attn_q.weight,
        blk.0.attn_k.weight, blk.0.ffn_down.weight, output_norm.weight) to OUTDIR/<name>.f32 and writes
        OUTDIR/real.json with metadata facts to compare against.

Needs: pip install gguf numpy
"""
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as T, GGUFValueType as V

SEED = 1234
ROWS = 3

# (tensor name, ggml type, numpy shape (rows..., ne0)). K-quants need ne0 % 256 == 0.
SYNTH_TENSORS = [
    ("t.f32_1d", T.F32, (40,)),
    ("t.f32_3d", T.F32, (2, 3, 8)),
    ("t.f16", T.F16, (ROWS, 64)),
    ("t.f16_bits", T.F16, (ROWS, 64)),  # random bit patterns: subnormals, infinities, -0
    ("t.bf16", T.BF16, (ROWS, 64)),
    ("t.bf16_bits", T.BF16, (ROWS, 64)),
    ("t.q8_0", T.Q8_0, (ROWS, 96)),
    ("t.q4_0", T.Q4_0, (ROWS, 128)),
    ("t.q4_1", T.Q4_1, (ROWS, 128)),
    ("t.q5_0", T.Q5_0, (ROWS, 128)),
    ("t.q5_1", T.Q5_1, (ROWS, 128)),
    ("t.q4_k", T.Q4_K, (ROWS, 512)),
    ("t.q5_k", T.Q5_K, (ROWS, 512)),
    ("t.q6_k", T.Q6_K, (ROWS, 512)),
    ("t.q2_k", T.Q2_K, (2, 256)),  # not supported by the Swift reader: must fail with an InputError
]

# Offsets of the half-float scale fields inside one block, for raw random blocks.
HALF_FIELDS = {
    T.Q4_0: [0], T.Q4_1: [0, 2], T.Q5_0: [0], T.Q5_1: [0, 2], T.Q8_0: [0],
    T.Q2_K: [80, 82], T.Q4_K: [0, 2], T.Q5_K: [0, 2], T.Q6_K: [208],
}


def random_halfs(rng, n, lo, hi):
    return rng.uniform(lo, hi, size=n).astype(np.float16).view(np.uint8).reshape(n, 2)


def raw_blocks(rng, qtype, shape):
    """Random bytes for `shape` elements of `qtype`, with finite half-float scales in every block."""
    block_size, type_size = gguf.GGML_QUANT_SIZES[qtype]
    n_blocks = int(np.prod(shape)) // block_size
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    for i, off in enumerate(HALF_FIELDS[qtype]):
        lo, hi = (-1.0, 1.0) if i == 0 else (0.0, 0.25)
        blocks[:, off:off + 2] = random_halfs(rng, n_blocks, lo, hi)
    return blocks.reshape(*shape[:-1], shape[-1] // block_size * type_size)


def random_bits16(rng, shape, exponent_mask, exponent_shift):
    """Random 16-bit patterns with no NaN (all-ones exponent with non-zero mantissa)."""
    bits = rng.integers(0, 1 << 16, size=shape, dtype=np.uint32).astype(np.uint16)
    exponent = (bits >> exponent_shift) & exponent_mask
    mantissa = bits & ((1 << exponent_shift) - 1)
    nan = (exponent == exponent_mask) & (mantissa != 0)
    bits[nan] &= np.uint16(0x8000 | (exponent_mask - 1) << exponent_shift | ((1 << exponent_shift) - 1))
    # a few special values at fixed places
    flat = bits.reshape(-1)
    flat[:6] = [0x0000, 0x8000, 0x0001, exponent_mask << exponent_shift, 0x8000 | exponent_mask << exponent_shift, 0x03FF]
    return bits


def quantized(rng, name, qtype, shape):
    """(data, raw_dtype) for GGUFWriter.add_tensor."""
    if qtype == T.F32:
        return rng.standard_normal(shape).astype(np.float32), None
    if name == "t.f16_bits":
        return random_bits16(rng, shape, 0x1F, 10).view(np.float16), None
    if name == "t.bf16_bits":
        return random_bits16(rng, shape, 0xFF, 7).view(np.uint8).reshape(*shape[:-1], shape[-1] * 2), T.BF16
    data = (rng.standard_normal(shape) * 0.5).astype(np.float32)
    data.reshape(-1)[:32] = 0.0  # an all-zero block (d == 0) exercises the zero-scale path
    try:
        q = gguf.quants.quantize(data, qtype)
    except NotImplementedError:
        return raw_blocks(rng, qtype, shape), qtype
    if qtype == T.F16:
        return q, None
    return q, qtype


def write_synth(outdir):
    rng = np.random.default_rng(SEED)
    path = os.path.join(outdir, "synth.gguf")
    w = gguf.GGUFWriter(path, "llama")
    w.add_custom_alignment(64)
    w.add_uint8("test.uint8", 200)
    w.add_int8("test.int8", -100)
    w.add_uint16("test.uint16", 60000)
    w.add_int16("test.int16", -30000)
    w.add_uint32("test.uint32", 4000000000)
    w.add_int32("test.int32", -2000000000)
    w.add_float32("test.float32", 0.15625)
    w.add_uint64("test.uint64", 18000000000000000000)
    w.add_int64("test.int64", -9000000000000000000)
    w.add_float64("test.float64", -2.5e-300)
    w.add_bool("test.bool_true", True)
    w.add_bool("test.bool_false", False)
    w.add_string("test.string", "héllo wörld ✓ 🦙")
    w.add_array("test.array_str", ["a", "", "Ġt", "<|im_end|>"])
    w.add_array("test.array_int32", [1, -2, 3])
    w.add_array("test.array_float32", [0.5, -1.25, 3.0e-5])
    w.add_array("test.array_bool", [True, False, True])
    w.add_key_value("test.array_uint8", [0, 1, 255], V.ARRAY, sub_type=V.UINT8)
    w.add_key_value("test.array_int8", [-128, 0, 127], V.ARRAY, sub_type=V.INT8)
    w.add_key_value("test.array_uint16", [0, 65535], V.ARRAY, sub_type=V.UINT16)
    w.add_key_value("test.array_int16", [-32768, 32767], V.ARRAY, sub_type=V.INT16)
    w.add_key_value("test.array_uint32", [0, 4294967295], V.ARRAY, sub_type=V.UINT32)
    w.add_key_value("test.array_uint64", [0, 18446744073709551615], V.ARRAY, sub_type=V.UINT64)
    w.add_key_value("test.array_int64", [-9223372036854775808, 9223372036854775807], V.ARRAY, sub_type=V.INT64)
    w.add_key_value("test.array_float64", [1.0e300, -0.0], V.ARRAY, sub_type=V.FLOAT64)
    w.add_key_value("test.array_nested", [[1, 2], [3], ["x", "y"]], V.ARRAY, sub_type=V.ARRAY)
    for name, qtype, shape in SYNTH_TENSORS:
        data, raw_dtype = quantized(rng, name, qtype, shape)
        w.add_tensor(name, data, raw_dtype=raw_dtype)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()

    r = gguf.GGUFReader(path)
    tensors = []
    for t in r.tensors:
        entry = {"name": t.name, "type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                 "offset": int(t.data_offset), "nbytes": int(t.n_bytes)}
        try:
            values = gguf.quants.dequantize(t.data, t.tensor_type)
        except NotImplementedError:
            values = None
        if values is not None:
            values = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
            assert values.size == t.n_elements
            values.astype("<f4").tofile(os.path.join(outdir, t.name + ".f32"))
            entry["file"] = t.name + ".f32"
        tensors.append(entry)
    fields = {k: [ty.name for ty in f.types] for k, f in r.fields.items() if not k.startswith("GGUF.")}
    with open(os.path.join(outdir, "synth.json"), "w") as f:
        json.dump({"alignment": int(r.alignment), "data_offset": int(r.data_offset),
                   "tensors": tensors, "fields": fields}, f, indent=1)


REAL_TENSORS = [
    ("token_embd.weight", 4),  # first 4 rows only
    ("blk.0.attn_q.weight", None),
    ("blk.0.attn_k.weight", None),
    ("blk.0.ffn_down.weight", None),
    ("blk.29.ffn_up.weight", None),
    ("output_norm.weight", None),
]


def write_real(model, outdir):
    r = gguf.GGUFReader(model)
    by_name = {t.name: t for t in r.tensors}
    out = {"tensors": {}}
    for name, rows in REAL_TENSORS:
        t = by_name[name]
        data = t.data if rows is None else t.data[:rows]
        values = np.ascontiguousarray(gguf.quants.dequantize(data, t.tensor_type), dtype=np.float32).reshape(-1)
        values.astype("<f4").tofile(os.path.join(outdir, name + ".f32"))
        out["tensors"][name] = {"type": t.tensor_type.name, "shape": [int(x) for x in t.shape],
                                "rows": rows, "count": int(values.size), "offset": int(t.data_offset)}
    f = r.fields
    out["tensor_count"] = len(r.tensors)
    out["kv_keys"] = [k for k in f if not k.startswith("GGUF.")]
    out["tokens_count"] = len(f["tokenizer.ggml.tokens"].data)
    out["merges_count"] = len(f["tokenizer.ggml.merges"].data)
    out["tokens_first"] = [f["tokenizer.ggml.tokens"].contents(i) for i in range(8)]
    out["tokens_last"] = f["tokenizer.ggml.tokens"].contents(len(f["tokenizer.ggml.tokens"].data) - 1)
    out["merges_first"] = [f["tokenizer.ggml.merges"].contents(i) for i in range(8)]
    out["token_type_sum"] = int(sum(f["tokenizer.ggml.token_type"].contents()))
    out["chat_template"] = f["tokenizer.chat_template"].contents()
    with open(os.path.join(outdir, "real.json"), "w") as fp:
        json.dump(out, fp, indent=1, ensure_ascii=False)


def main(argv):
    if len(argv) == 3 and argv[1] == "synth":
        os.makedirs(argv[2], exist_ok=True)
        write_synth(argv[2])
    elif len(argv) == 4 and argv[1] == "real":
        os.makedirs(argv[3], exist_ok=True)
        write_real(argv[2], argv[3])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
