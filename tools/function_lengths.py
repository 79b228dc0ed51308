#!/usr/bin/env python3
"""Lists the longest function bodies in the C++ sources given (default: src/), longest first.

A heuristic, not a parser: a function is a '{' whose preceding text (since the last ';', '{'
or '}') has a parameter list and is not a class, namespace, enum or initialiser; its length
is the number of lines from its signature to its closing brace. Comments and string literals
are blanked first. Exits 1 when one is longer than --max lines.

usage: function_lengths.py [--max N] [--top K] [PATH...]
"""
import argparse
import pathlib
import re
import sys


def blank(text):
    """Comments and literals replaced by spaces, newlines kept."""
    pattern = re.compile(r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
    return pattern.sub(lambda m: re.sub(r"[^\n]", " ", m.group(0)), text)


def functions(path):
    text = blank(path.read_text(encoding="utf-8"))
    stack = []  # (kind, start_line, name)
    head_start = 0
    for i, c in enumerate(text):
        if c == "{":
            head = text[head_start:i]
            line = text.count("\n", 0, head_start + len(head) - len(head.lstrip()))
            is_function = (
                ")" in head
                and not re.search(r"\b(class|struct|namespace|enum|union)\b", head)
                and not re.search(r"=\s*$", head)
                and not any(kind == "function" for kind, _, _ in stack)
            )
            name = re.sub(r"\s+", " ", head.strip())[:90]
            stack.append(("function" if is_function else "other", line + 1, name))
            head_start = i + 1
        elif c == "}":
            if stack:
                kind, start, name = stack.pop()
                if kind == "function":
                    yield text.count("\n", 0, i) + 1 - start + 1, f"{path}:{start}", name
            head_start = i + 1
        elif c == ";":
            head_start = i + 1


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--max", type=int, default=0)
    parser.add_argument("--top", type=int, default=10)
    parser.add_argument("paths", nargs="*", default=["src"])
    args = parser.parse_args()
    found = []
    for p in args.paths:
        root = pathlib.Path(p)
        files = [root] if root.is_file() else sorted(
            f for ext in ("*.cpp", "*.hpp", "*.ipp") for f in root.rglob(ext))
        for f in files:
            found += functions(f)
    found.sort(reverse=True)
    for length, where, name in found[: args.top]:
        print(f"{length:4}  {where}  {name}")
    if args.max and found and found[0][0] > args.max:
        sys.exit(1)


if __name__ == "__main__":
    main()
