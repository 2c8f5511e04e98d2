#!/usr/bin/env python3
"""Every C++ code block in the docs must be a region of a file that CI builds and runs.

A fenced block opened with ```cpp (or ```c++) in README.md or docs/**/*.md must be preceded
by a marker line

    <!-- snippet: examples/snippets/snippet_gemm.cpp#gemm_views -->

and that file must hold the region

    // [snippet gemm_views]
    ... exactly the block's lines (indentation relative to the region's first line) ...
    // [/snippet gemm_views]

(several parts with one name are joined by a blank line: #include lines at file scope and
statements inside main() can make one block).

The file must also be named in the CMakeLists.txt of its folder (so a target builds it). The check fails,
listing every problem, when a block has no marker, the file or region is missing, the text
differs, or the file is not built. Run: python3 tools/check_snippets.py [--root DIR]
"""
import argparse
import pathlib
import re
import sys

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(\S+?)#(\S+)\s*-->\s*$")
FENCE_OPEN = re.compile(r"^(\s*)```(cpp|c\+\+)\s*$")
FENCE_CLOSE = re.compile(r"^\s*```\s*$")


def dedent(lines):
    """Strip trailing blanks and the common leading indentation of non-empty lines."""
    lines = [line.rstrip() for line in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    indents = [len(line) - len(line.lstrip()) for line in lines if line]
    cut = min(indents) if indents else 0
    return [line[cut:] for line in lines]


def doc_blocks(path):
    """Yields (line number, marker or None, block lines) for each C++ block of a doc."""
    lines = path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = FENCE_OPEN.match(lines[i])
        if not m:
            i += 1
            continue
        start = i
        j = i + 1
        while j < len(lines) and not FENCE_CLOSE.match(lines[j]):
            j += 1
        prev = start - 1
        while prev >= 0 and not lines[prev].strip():
            prev -= 1
        marker = MARKER.match(lines[prev]) if prev >= 0 else None
        yield start + 1, (marker.group(1), marker.group(2)) if marker else None, lines[start + 1:j]
        i = j + 1


def region(path, name):
    """The lines of every '// [snippet name]' ... '// [/snippet name]' part of a file, each
    part dedented on its own and the parts joined by one blank line (so a block can show
    its #include lines and the statements of a function body together), or None."""
    lines = path.read_text(encoding="utf-8").split("\n")
    opening = re.compile(r"^\s*//\s*\[snippet\s+" + re.escape(name) + r"\]\s*$")
    closing = re.compile(r"^\s*//\s*\[/snippet\s+" + re.escape(name) + r"\]\s*$")
    parts, i = [], 0
    while i < len(lines):
        if opening.match(lines[i]):
            j = i + 1
            while j < len(lines) and not closing.match(lines[j]):
                j += 1
            if j == len(lines):
                return None  # unterminated
            parts.append(dedent(lines[i + 1:j]))
            i = j
        i += 1
    if not parts:
        return None
    joined = parts[0]
    for part in parts[1:]:
        joined = joined + [""] + part
    return joined


def is_built(src):
    """True if the CMakeLists.txt beside src names it: literally, or through a pattern such
    as kernel_${isa}.cpp / ${name}.cpp whose variable part (avx2, snippet_gemm) is itself
    listed in that CMakeLists.txt."""
    cm = src.parent / "CMakeLists.txt"
    if not cm.exists():
        return False
    text = cm.read_text(encoding="utf-8")
    if re.search(r"(?<![\w.-])" + re.escape(src.name) + r"(?![\w.-])", text):
        return True
    words = set(re.findall(r"[\w.-]+", text))
    for token in re.findall(r"[\w.${}-]*\$\{\w+\}[\w.${}-]*", text):
        pattern = "^" + re.sub(r"\\\$\\\{\w+\\\}", "(.+)", re.escape(token)) + "$"
        m = re.match(pattern, src.name)
        if m and all(g in words for g in m.groups()):
            return True
    return False


def check(root):
    docs = [root / "README.md"] + sorted((root / "docs").rglob("*.md"))
    problems, blocks = [], 0
    for doc in docs:
        if not doc.exists():
            continue
        rel = doc.relative_to(root)
        for line, marker, body in doc_blocks(doc):
            blocks += 1
            where = f"{rel}:{line}"
            if marker is None:
                problems.append(f"{where}: C++ block without a '<!-- snippet: FILE#NAME -->' marker line before it")
                continue
            file, name = marker
            src = root / file
            if not src.exists():
                problems.append(f"{where}: snippet file {file} does not exist")
                continue
            if not is_built(src):
                problems.append(f"{where}: {file} is not named in the CMakeLists.txt beside it (CI would not build it)")
            text = region(src, name)
            if text is None:
                problems.append(f"{where}: {file} has no region '// [snippet {name}]' ... '// [/snippet {name}]'")
                continue
            want, have = dedent(body), dedent(text)
            if want != have:
                for k in range(max(len(want), len(have))):
                    a = want[k] if k < len(want) else "<end>"
                    b = have[k] if k < len(have) else "<end>"
                    if a != b:
                        problems.append(f"{where}: differs from {file}#{name} at block line {k + 1}:\n"
                                        f"    doc:  {a}\n    file: {b}")
                        break
    return blocks, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--root", default=pathlib.Path(__file__).resolve().parent.parent, type=pathlib.Path)
    args = ap.parse_args()
    blocks, problems = check(args.root.resolve())
    for p in problems:
        print(p)
    print(f"check_snippets: {blocks} C++ blocks, {len(problems)} problem(s)")
    return 1 if problems or blocks == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
