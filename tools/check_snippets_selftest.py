#!/usr/bin/env python3
"""check_snippets.py must catch drift: a fixture tree where the docs match their snippet
files passes, and each kind of breakage (edited text, missing marker, missing region,
unbuilt file) is reported."""
import pathlib
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import check_snippets  # noqa: E402

SRC = """#include <cstdio>
// [snippet hello]
#include <cstdio>
// [/snippet hello]
int main() {
  // [snippet hello]
  std::puts("hello");
  // [/snippet hello]
}
"""
DOC = """# t
<!-- snippet: ex/hello.cpp#hello -->
```cpp
#include <cstdio>

std::puts("hello");
```
"""


def run(doc, src=SRC, cmake="add_executable(hello hello.cpp)\n"):
    with tempfile.TemporaryDirectory() as d:
        root = pathlib.Path(d)
        (root / "docs").mkdir()
        (root / "ex").mkdir()
        (root / "README.md").write_text(doc)
        (root / "ex" / "hello.cpp").write_text(src)
        (root / "ex" / "CMakeLists.txt").write_text(cmake)
        return check_snippets.check(root)


def main():
    failures = []
    blocks, problems = run(DOC)
    if blocks != 1 or problems:
        failures.append(f"matching fixture: {blocks} blocks, problems {problems}")
    cases = {
        "edited text": (DOC.replace('"hello"', '"hullo"'), SRC, None),
        "missing marker": (DOC.replace("<!-- snippet: ex/hello.cpp#hello -->\n", ""), SRC, None),
        "missing region": (DOC.replace("#hello", "#other"), SRC, None),
        "unbuilt file": (DOC, SRC, "# nothing\n"),
        "extra line in file": (DOC, SRC.replace('  std::puts("hello");', '  std::puts("hello");\n  return 0;'), None),
    }
    for name, (doc, src, cmake) in cases.items():
        _, problems = run(doc, src, cmake) if cmake else run(doc, src)
        if not problems:
            failures.append(f"{name}: not reported")
    for f in failures:
        print("FAIL", f)
    print(f"check_snippets selftest: {len(cases) + 1 - len(failures)}/{len(cases) + 1} cases ok")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
