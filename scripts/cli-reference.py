"""Rewrites the verb reference of docs/cli.md (everything after its "## Verbs" line) from the
argument definitions of the built binary, so that the page lists exactly what the CLI accepts
(CLIDocsTests fails when a verb or flag is missing from it).
Usage: .build/release/rlhub --experimental-dump-help | python3 scripts/cli-reference.py docs/cli.md"""
import json
import re
import sys

d = json.load(sys.stdin)
out = []
def label(a):
    names = a.get("names") or []
    kind = a["kind"]
    if kind == "positional":
        v = a.get("valueName") or "arg"
        s = f"`{v.upper()}`" + (" …" if a.get("isRepeating") else "")
        return s + (" (optional)" if a.get("isOptional") else "")
    longs = [n for n in names if n["kind"] in ("long", "longWithSingleDash")]
    shorts = [n for n in names if n["kind"] == "short"]
    n = (longs or shorts or [None])[0]
    if n is None: return None
    dash = "-" if n["kind"] in ("longWithSingleDash", "short") else "--"
    s = f"`{dash}{n['name']}"
    if kind == "option":
        s += " " + (a.get("valueName") or "value").upper()
    s += "`"
    if shorts and longs: s += f", `-{shorts[0]['name']}`"
    return s
def walk(cmd, path):
    if not cmd.get("shouldDisplay", True) or cmd["commandName"] == "help": return
    if len(path) > 1:
        out.append(f"### `{' '.join(path)}`")
        out.append("")
        text = (cmd.get("abstract") or "").strip()
        disc = re.sub(r"\s+", " ", (cmd.get("discussion") or "").strip())
        if disc: text += " " + disc
        out.append(text)
        if cmd.get("defaultSubcommand"):
            out.append("")
            out.append(f"`{' '.join(path)} SPEC` runs `{' '.join(path)} {cmd['defaultSubcommand']} SPEC`.")
        rows = []
        for a in cmd.get("arguments") or []:
            if not a.get("shouldDisplay", True): continue
            if any(n["name"] in ("help", "version") for n in (a.get("names") or [])): continue
            t = label(a)
            if t is None: continue
            h = re.sub(r"\s+", " ", (a.get("abstract") or "")).replace("|", "\\|")
            values = [v for v in a.get("allValues") or [] if v]
            if values and not all(v in h for v in values):
                h += " Values: " + ", ".join(values) + "."
            dv = a.get("defaultValue")
            if dv not in (None, "", "false") and "default" not in h.lower():
                h += f" Default: {dv}."
            if a.get("isRepeating") and a["kind"] == "option" and "repeatable" not in h.lower(): h += " Repeatable."
            rows.append(f"| {t} | {h} |")
        if rows:
            out.append("")
            out.append("| argument | meaning |")
            out.append("|---|---|")
            out.extend(rows)
        out.append("")
    for s in cmd.get("subcommands") or []:
        walk(s, path + [s["commandName"]])
walk(d["command"], [d["command"]["commandName"]])

path = sys.argv[1]
page = open(path, encoding="utf-8").read()
marker = "## Verbs\n"
head = page[: page.index(marker) + len(marker)]
with open(path, "w", encoding="utf-8") as f:
    f.write(head + "\n" + "\n".join(out).rstrip() + "\n")
