#!/usr/bin/env python3
"""Applies or reverts one mutation of tests/mutations/ in a tree.

    mutate.py show   MUTATION            prints "file", then "tests" words
    mutate.py check  MUTATION TREE       only says whether the snippet is there once
    mutate.py apply  MUTATION TREE       writes the mutant, keeps the original
    mutate.py revert MUTATION TREE       puts the original back

A mutation file holds a description (the '#' lines at its top), a target
file, the tests that must catch it, and an exact snippet with its
replacement:

    # A required peer that is down reads as WARNING.
    file: monitor/verdict.c
    tests: test_verdict_wireguard
    @@ find
    <lines, exactly as in the file, tabs included>
    @@ replace
    <lines>
    @@ end

The snippet must occur exactly once in the target: a snippet that is gone
or ambiguous makes the mutation stale, which is an error (exit 2), never a
pass.
"""
import os
import sys


def parse(path):
    fields, blocks, current = {}, {}, None
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    for line in lines:
        if line.startswith("@@ "):
            current = line[3:].strip()
            if current == "end":
                current = None
            else:
                blocks[current] = []
            continue
        if current is not None:
            blocks[current].append(line)
            continue
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition(":")
        if not sep:
            raise ValueError(f"{path}: not 'key: value': {line!r}")
        fields[key.strip()] = value.strip()
    for key in ("file", "tests"):
        if not fields.get(key):
            raise ValueError(f"{path}: no '{key}:' line")
    for key in ("find", "replace"):
        if key not in blocks:
            raise ValueError(f"{path}: no '@@ {key}' block")
    find = "\n".join(blocks["find"])
    replace = "\n".join(blocks["replace"])
    if not find.strip():
        raise ValueError(f"{path}: empty snippet")
    if find == replace:
        raise ValueError(f"{path}: the replacement is the snippet itself")
    return fields["file"], fields["tests"].split(), find, replace


def main(argv):
    if len(argv) < 3 or argv[1] not in ("show", "check", "apply", "revert"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        target, tests, find, replace = parse(argv[2])
    except (OSError, ValueError) as e:
        print(f"mutate: {e}", file=sys.stderr)
        return 2
    if argv[1] == "show":
        print(target)
        print(" ".join(tests))
        return 0
    path = os.path.join(argv[3], target)
    saved = os.path.join(argv[3], ".mutant-original")
    if argv[1] == "revert":
        # Written anew, not renamed: the file must be newer than what was
        # built from the mutant, so that make rebuilds it.
        with open(saved, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        os.unlink(saved)
        return 0
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        print(f"mutate: {argv[2]}: {e}", file=sys.stderr)
        return 2
    n = text.count(find)
    if n != 1:
        print(f"mutate: {argv[2]}: stale: the snippet occurs {n} times in {target}",
              file=sys.stderr)
        return 2
    if argv[1] == "check":
        return 0
    with open(saved, "w", encoding="utf-8") as f:
        f.write(text)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text.replace(find, replace))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
