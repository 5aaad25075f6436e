"""Every Python block of every walkthrough chapter runs, in order, one namespace per chapter.

A block whose first line is ``# needs: <path>`` (a path relative to the repository root, such as
``../shared/data/casia``) runs only where that path exists; the chapter says in prose what a reader
without it would see. Blocks run with the repository root as the working directory, as a reader
would run them.
"""

import pathlib
import re

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "walkthrough").glob("[0-9][0-9]-*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def python_blocks(path):
    """(line number, code) of each ```python block of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1)) for m in BLOCK.finditer(text)]


def needs(code):
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    m = re.match(r"#\s*needs:\s*(\S+)", first)
    return m.group(1) if m else None


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs(chapter, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # a chapter that plots must never open a window
    monkeypatch.chdir(ROOT)
    namespace = {"__name__": f"walkthrough_{chapter.stem.replace('-', '_')}"}
    blocks = python_blocks(chapter)
    assert blocks, f"{chapter.name} has no ```python block"
    for line, code in blocks:
        required = needs(code)
        if required and not (ROOT / required).exists():
            continue
        try:
            exec(compile(code, f"{chapter.name}:{line}", "exec"), namespace)
        except Exception as exc:
            raise AssertionError(f"{chapter.name}, block starting at line {line} failed: "
                                 f"{type(exc).__name__}: {exc}") from exc

