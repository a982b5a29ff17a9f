#!/usr/bin/env python3
"""Check that every code quote in the guides still finds its code.

Doxygen prints nothing when a \\skip or \\until pattern is not found (it just
quotes less), so a guide could silently lose a block when an example changes.
This script walks each docs/*.md the way Doxygen does: \\include and \\snippet
files must exist, each \\snippet marker must delimit a non-empty block, and
\\dontinclude walks (\\skip, \\until, \\line, \\skipline) must find every
pattern, in order. Exit status 1 lists what is missing.
"""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else pathlib.Path(__file__).parent.parent)
examples = root / "examples"
cmd = re.compile(r"^\s*\\(include|snippet|dontinclude|skip|until|line|skipline)\s+(.*?)\s*$")
errors = []
quotes = 0

for md in sorted((root / "docs").glob("*.md")):
    lines, pos, cur = None, 0, None
    for n, text in enumerate(md.read_text().splitlines(), 1):
        m = cmd.match(text)
        if not m:
            continue
        what, arg = m.groups()
        where = f"{md.name}:{n}"
        if what in ("include", "snippet", "dontinclude"):
            name = arg.split()[0]
            path = examples / name
            if not path.is_file():
                errors.append(f"{where}: no file examples/{name}")
                lines = None
                continue
            quotes += 1
            body = path.read_text().splitlines()
            if what == "snippet":
                mark = "[" + arg.split(None, 1)[1] + "]"
                at = [i for i, l in enumerate(body) if mark in l]
                if len(at) != 2 or at[1] - at[0] < 2:
                    errors.append(f"{where}: marker {mark} in examples/{name} "
                                  f"does not delimit a block (found on {len(at)} lines)")
            elif what == "dontinclude":
                lines, pos, cur = body, 0, name
            continue
        if lines is None:
            errors.append(f"{where}: \\{what} without a \\dontinclude before it")
            continue
        hit = next((i for i in range(pos, len(lines)) if arg in lines[i]), None)
        if hit is None:
            errors.append(f"{where}: \\{what} {arg!r} not found in examples/{cur} "
                          f"after line {pos}")
            continue
        quotes += 1
        pos = hit if what == "skip" else hit + 1

for e in errors:
    print(e)
print(f"check_snippets: {quotes} quotes checked, {len(errors)} missing")
sys.exit(1 if errors else 0)
