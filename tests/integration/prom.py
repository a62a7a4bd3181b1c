#!/usr/bin/env python3
"""A strict reader of Prometheus's text exposition format (0.0.4), for tests.

prom.py FILE prints the samples as JSON: {"name{label=value,...}": value}.
It refuses (exit 1, saying where) anything the format does not allow: a bad
metric or label name, a label value with an escape other than \\\\, \\" and
\\n, a sample before its family's TYPE, a TYPE or HELP given twice or after
its samples, a family's samples not together, a counter not named _total,
a series given twice, a value that is not a number, no final newline.
"""
import json
import re
import sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


def labels(text, where):
    out, pos = {}, 0
    while pos < len(text):
        m = re.compile(LABEL + '="').match(text, pos)
        if not m:
            raise ValueError(f"{where}: bad label at {text[pos:]!r}")
        name, pos, value = m.group(0)[:-2], m.end(), ""
        while True:
            if pos >= len(text):
                raise ValueError(f"{where}: unterminated label value")
            c = text[pos]
            if c == "\\":
                esc = text[pos + 1:pos + 2]
                if esc not in ('\\', '"', 'n'):
                    raise ValueError(f"{where}: bad escape \\{esc}")
                value += "\n" if esc == "n" else esc
                pos += 2
            elif c == '"':
                pos += 1
                break
            elif c == "\n":
                raise ValueError(f"{where}: newline in a label value")
            else:
                value += c
                pos += 1
        if name in out:
            raise ValueError(f"{where}: label {name} twice")
        out[name] = value
        if pos < len(text):
            if text[pos] != ",":
                raise ValueError(f"{where}: expected , after a label")
            pos += 1
    return out


def parse(text):
    if not text.endswith("\n"):
        raise ValueError("no newline at the end")
    types, helps, done, samples, current = {}, {}, set(), {}, None
    for n, line in enumerate(text[:-1].split("\n"), 1):
        where = f"line {n}"
        if line.startswith("#"):
            m = re.fullmatch(r"# (HELP|TYPE) (" + NAME + r") (.*)", line)
            if not m:
                continue  # a plain comment
            kind, name, rest = m.groups()
            seen = types if kind == "TYPE" else helps
            if name in seen or name in done or name == current:
                raise ValueError(f"{where}: {kind} of {name} twice, or after its samples")
            if kind == "TYPE" and rest not in TYPES:
                raise ValueError(f"{where}: unknown type {rest}")
            if kind == "TYPE" and rest == "counter" and not name.endswith("_total"):
                raise ValueError(f"{where}: counter {name} not named _total")
            seen[name] = rest
            continue
        m = re.fullmatch(r"(" + NAME + r")(?:\{(.*)\})? (\S+)(?: (-?[0-9]+))?", line)
        if not m:
            raise ValueError(f"{where}: not a sample: {line!r}")
        name, lab, value = m.group(1), m.group(2) or "", m.group(3)
        if name not in types:
            raise ValueError(f"{where}: {name} has no TYPE before it")
        if name != current:
            if name in done:
                raise ValueError(f"{where}: samples of {name} not together")
            if current:
                done.add(current)
            current = name
        lab = labels(lab, where)
        if not re.fullmatch(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?|Inf)|NaN", value):
            raise ValueError(f"{where}: bad value {value}")
        key = name + "{" + ",".join(f"{k}={v}" for k, v in sorted(lab.items())) + "}"
        if key in samples:
            raise ValueError(f"{where}: series {key} twice")
        samples[key] = float(value)
    return samples


if __name__ == "__main__":
    try:
        print(json.dumps(parse(open(sys.argv[1], encoding="utf-8").read())))
    except ValueError as e:
        print(f"prom.py: {e}", file=sys.stderr)
        sys.exit(1)
