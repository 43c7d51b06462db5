#!/usr/bin/env python3
"""Reference encodings for rlhub's byte-level BPE tokenizer (Tests/LMTests/BPETokenizerTests.swift).

Usage:
  bpe_reference.py --gguf MODEL.gguf --corpus CORPUS.json --out ENCODINGS.json \
      [--fixture VOCAB.json] [--tokenizer-json DIR] [--chat CASES.json --chat-out RENDERS.json] \
      [--backend auto|llama|hf]

All JSON written is ASCII-escaped (Foundation's JSONSerialization on Linux drops a raw U+FEFF at
the start of a string). CORPUS.json is a JSON array of strings. ENCODINGS.json gets
  {"backend": "llama.cpp"|"hf-tokenizers",
   "parse_special": {text: [ids]},   # special-token strings become their ids
   "no_special":    {text: [ids]}}   # special-token strings encoded as plain text

--fixture dumps the GGUF tokenizer metadata (tokens, merges, token types, special ids, pre,
chat template) as JSON; --tokenizer-json writes an HF tokenizer.json (+ tokenizer_config.json)
built from it into DIR; --chat renders the GGUF chat template with jinja2 (trim_blocks and
lstrip_blocks, as transformers does) for each case {"messages": [...], "add_generation_prompt": b}.

Backends:
  llama -- llama-cpp-python (`pip install llama-cpp-python`, builds llama.cpp from source):
           Llama(model, vocab_only=True).tokenize(text.encode(), add_bos=False, special=...).
           This is the behaviour rlhub must match byte for byte.
  hf    -- HF `tokenizers` with a tokenizer.json built from the GGUF vocabulary and merges and the
           pre-tokenizer Sequence[Digits(individual_digits), ByteLevel] of the original SmolLM2
           tokenizer.json, which llama.cpp's `smollm` pre-type reproduces.
  auto  -- llama if importable, else hf (the default; env RLHUB_BPE_REFERENCE_BACKEND overrides).
Requirements: pip install gguf tokenizers jinja2 (llama-cpp-python for the llama backend).
"""
import argparse
import json
import os
import sys


def read_gguf(path):
    import gguf

    reader = gguf.GGUFReader(path)

    def field(name, default=None):
        f = reader.fields.get(name)
        return f.contents() if f is not None else default

    tokens = field("tokenizer.ggml.tokens")
    if tokens is None:
        sys.exit(f"{path}: no tokenizer.ggml.tokens")
    return {
        "model": field("tokenizer.ggml.model"),
        "pre": field("tokenizer.ggml.pre"),
        "tokens": list(tokens),
        "merges": list(field("tokenizer.ggml.merges", [])),
        "token_types": [int(t) for t in field("tokenizer.ggml.token_type", [])],
        "bos": field("tokenizer.ggml.bos_token_id"),
        "eos": field("tokenizer.ggml.eos_token_id"),
        "pad": field("tokenizer.ggml.padding_token_id"),
        "unk": field("tokenizer.ggml.unknown_token_id"),
        "add_bos": field("tokenizer.ggml.add_bos_token"),
        "chat_template": field("tokenizer.chat_template"),
    }


def hf_tokenizer_json(meta):
    """A tokenizer.json equivalent to the original SmolLM2 one (vocabulary from the GGUF)."""
    pre = meta["pre"]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True}
    if pre == "smollm":
        pre_tokenizer = {
            "type": "Sequence",
            "pretokenizers": [{"type": "Digits", "individual_digits": True}, byte_level],
        }
    elif pre in ("gpt2", "gpt-2"):
        pre_tokenizer = byte_level
    else:
        sys.exit(f"hf backend: pre-tokenizer {pre!r} not handled by this script")
    types = meta["token_types"] or [1] * len(meta["tokens"])
    added = [
        {
            "id": i,
            "content": t,
            "single_word": False,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "special": types[i] == 3,
        }
        for i, t in enumerate(meta["tokens"])
        if types[i] in (3, 4)
    ]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": pre_tokenizer,
        "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
        "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
        "model": {
            "type": "BPE",
            "dropout": None,
            "unk_token": None,
            "continuing_subword_prefix": None,
            "end_of_word_suffix": None,
            "fuse_unk": False,
            "byte_fallback": False,
            "ignore_merges": False,
            "vocab": {t: i for i, t in enumerate(meta["tokens"])},
            "merges": meta["merges"],
        },
    }


def tokenizer_config(meta):
    def name(i):
        return meta["tokens"][i] if i is not None else None

    return {
        "bos_token": name(meta["bos"]),
        "eos_token": name(meta["eos"]),
        "pad_token": name(meta["pad"]),
        "unk_token": name(meta["unk"]),
        "chat_template": meta["chat_template"],
    }


def encode_llama(gguf_path, texts):
    from llama_cpp import Llama

    llm = Llama(model_path=gguf_path, vocab_only=True, verbose=False)
    out = {"parse_special": {}, "no_special": {}}
    for t in texts:
        b = t.encode("utf-8")
        out["parse_special"][t] = llm.tokenize(b, add_bos=False, special=True)
        out["no_special"][t] = llm.tokenize(b, add_bos=False, special=False)
    return out


def encode_hf(meta, texts):
    from tokenizers import Tokenizer

    tok = Tokenizer.from_str(json.dumps(hf_tokenizer_json(meta)))
    out = {"parse_special": {}, "no_special": {}}
    for t in texts:
        tok.encode_special_tokens = False
        out["parse_special"][t] = tok.encode(t, add_special_tokens=False).ids
        tok.encode_special_tokens = True
        out["no_special"][t] = tok.encode(t, add_special_tokens=False).ids
    return out


def render_chat(template, cases):
    import jinja2

    env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
    compiled = env.from_string(template)
    return [
        compiled.render(messages=c["messages"], add_generation_prompt=c["add_generation_prompt"]) for c in cases
    ]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gguf", required=True)
    ap.add_argument("--corpus")
    ap.add_argument("--out")
    ap.add_argument("--fixture")
    ap.add_argument("--tokenizer-json")
    ap.add_argument("--chat")
    ap.add_argument("--chat-out")
    ap.add_argument(
        "--backend", default=os.environ.get("RLHUB_BPE_REFERENCE_BACKEND", "auto"), choices=["auto", "llama", "hf"]
    )
    args = ap.parse_args()

    meta = read_gguf(args.gguf)
    if args.fixture:
        with open(args.fixture, "w", encoding="utf-8") as f:
            json.dump(meta, f, ensure_ascii=True)
    if args.tokenizer_json:
        os.makedirs(args.tokenizer_json, exist_ok=True)
        with open(os.path.join(args.tokenizer_json, "tokenizer.json"), "w", encoding="utf-8") as f:
            json.dump(hf_tokenizer_json(meta), f, ensure_ascii=True)
        with open(os.path.join(args.tokenizer_json, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(tokenizer_config(meta), f, ensure_ascii=True)
    if args.chat:
        with open(args.chat, encoding="utf-8") as f:
            cases = json.load(f)
        renders = render_chat(meta["chat_template"], cases)
        with open(args.chat_out, "w", encoding="utf-8") as f:
            json.dump(renders, f, ensure_ascii=True)
    if args.corpus:
        with open(args.corpus, encoding="utf-8") as f:
            texts = json.load(f)
        backend = args.backend
        if backend == "auto":
            try:
                import llama_cpp  # noqa: F401

                backend = "llama"
            except ImportError:
                backend = "hf"
        if backend == "llama":
            result = encode_llama(args.gguf, texts)
            result["backend"] = "llama.cpp"
        else:
            result = encode_hf(meta, texts)
            result["backend"] = "hf-tokenizers"
        with open(args.out, "w", encoding="utf-8") as f:
            json.dump(result, f, ensure_ascii=True)


if __name__ == "__main__":
    main()
