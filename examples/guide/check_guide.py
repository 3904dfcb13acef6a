#!/usr/bin/env python3
"""Checks that every C++ code block in docs/guide.md is a compiled snippet, verbatim.

Each ```cpp block in the page must follow a line  <!-- snippet: FILE#NAME -->  and hold exactly
the lines of examples/guide/FILE between the two marker lines  // [NAME]  (dedented). FILE must be
one of the programs the build compiles and CTest runs (--built). Every region of those files must
appear in the page, so a snippet cannot be orphaned either.

    check_guide.py GUIDE SNIPPET_DIR --built a.cpp b.cpp ...          # check (exit 1 on a mismatch)
    check_guide.py GUIDE SNIPPET_DIR --built a.cpp b.cpp ... --write  # rewrite the blocks from the files
"""
import argparse
import difflib
import pathlib
import re
import sys

MARKER = re.compile(r"^\s*// \[([A-Za-z0-9_-]+)\]\s*$")
SNIPPET = re.compile(r"^<!-- snippet: ([\w.-]+)#([A-Za-z0-9_-]+) -->$")
FENCE = re.compile(r"^```(\S*)\s*$")


def regions(path):
    """{name: dedented text} of the marked regions of one file."""
    lines = path.read_text().splitlines()
    found, open_at = {}, {}
    for i, line in enumerate(lines):
        m = MARKER.match(line)
        if not m:
            continue
        name = m.group(1)
        if name in found:
            raise SystemExit(f"{path}:{i + 1}: region [{name}] is marked more than twice")
        if name in open_at:
            body = lines[open_at.pop(name) + 1:i]
            indent = min((len(l) - len(l.lstrip()) for l in body if l.strip()), default=0)
            found[name] = "\n".join(l[indent:].rstrip() for l in body).strip("\n")
        else:
            open_at[name] = i
    if open_at:
        raise SystemExit(f"{path}: region(s) {sorted(open_at)} opened but never closed")
    return found


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("guide", type=pathlib.Path)
    ap.add_argument("snippet_dir", type=pathlib.Path)
    ap.add_argument("--built", nargs="+", required=True, help="snippet files the build compiles and runs")
    ap.add_argument("--write", action="store_true", help="rewrite the page's blocks from the files")
    args = ap.parse_args()

    snippets = {f: regions(args.snippet_dir / f) for f in args.built}
    page = args.guide.read_text().splitlines()
    out, errors, used = [], [], set()
    i = 0
    while i < len(page):
        line = page[i]
        fence = FENCE.match(line)
        if not fence or fence.group(1) == "":
            out.append(line)
            i += 1
            continue
        end = next((j for j in range(i + 1, len(page)) if page[j].rstrip() == "```"), None)
        if end is None:
            raise SystemExit(f"{args.guide}:{i + 1}: code block never closed")
        block = "\n".join(page[i + 1:end])
        if fence.group(1).lower() in ("cpp", "c++", "cxx"):
            prev = next((page[j] for j in range(i - 1, -1, -1) if page[j].strip()), "")
            tag = SNIPPET.match(prev.strip())
            where = f"{args.guide}:{i + 1}"
            if not tag:
                errors.append(f"{where}: a C++ block without '<!-- snippet: FILE#NAME -->' before it")
            elif tag.group(1) not in snippets:
                errors.append(f"{where}: {tag.group(1)} is not one of the compiled snippets {sorted(snippets)}")
            elif tag.group(2) not in snippets[tag.group(1)]:
                errors.append(f"{where}: {tag.group(1)} has no region [{tag.group(2)}]")
            else:
                used.add((tag.group(1), tag.group(2)))
                want = snippets[tag.group(1)][tag.group(2)]
                if args.write:
                    block = want
                elif block != want:
                    diff = difflib.unified_diff(block.splitlines(), want.splitlines(), str(args.guide),
                                                f"{tag.group(1)} [{tag.group(2)}]", lineterm="")
                    errors.append(f"{where}: the block differs from {tag.group(1)} [{tag.group(2)}]:\n" +
                                  "\n".join(diff))
        out.append(line)
        out.extend(block.split("\n") if block else [])
        out.append(page[end])
        i = end + 1

    for f, regs in snippets.items():
        for name in regs:
            if (f, name) not in used:
                errors.append(f"{args.snippet_dir / f}: region [{name}] is not shown in {args.guide}")
    if args.write:
        args.guide.write_text("\n".join(out) + "\n")
        print(f"rewrote the C++ blocks of {args.guide}")
    if errors:
        print("\n\n".join(errors))
        print(f"\n{len(errors)} problem(s); fix the page, or run this script with --write to copy the snippets in")
        return 1
    print(f"{args.guide}: {len(used)} C++ blocks, each identical to its compiled snippet")
    return 0


if __name__ == "__main__":
    sys.exit(main())
