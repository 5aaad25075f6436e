"""The walkthrough cannot drift from the code.

1. Every Python block of every chapter runs, in order, one namespace per chapter, with the repository
   root as the working directory, as a reader would run them.
2. Every output block (a ```text or bare ``` block right after a Python block) is what that block prints
   *now*: text must match word for word, numbers within the precision they are written to (see
   :func:`same_number`), except the volatile tokens declared in ``VOLATILE`` (times, speeds, paths).
3. Every number quoted in the prose or a figure caption is either checked against the code or a
   committed result (``FACTS`` in ``tests/walkthrough_facts.py``) or declared there as a definition, a
   setting or a citation (``DECLARED``): a number that is neither fails, so a new claim cannot slip in
   unchecked.

A block whose first line is ``# needs: <path>`` (a path relative to the repository root, such as
``../shared/data/casia``) runs only where that path exists; the chapter says in prose what a reader
without it would see, and its output block is then not compared.
"""

import contextlib
import functools
import io
import pathlib
import re

import pytest

from walkthrough_facts import DECLARED, FACTS, check_facts, prose_numbers

ROOT = pathlib.Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "walkthrough").glob("[0-9][0-9]-*.md"))
BLOCK = re.compile(r"^```python\n(.*?)^```\n(?:\s*\n)*(?:^```(?:text)?\n(.*?)^```)?", re.S | re.M)

# Tokens that legitimately differ from run to run: each pattern's match is replaced by its name in
# both the printed and the committed output before they are compared.
VOLATILE = {
    "<seconds>": r"\d+(?:\.\d+)? s\b",                     # "features: 96 images … in 1.4 s"
    "<speed>": r"\d+(?:\.\d+)? samples/s",
    "<eta>": r"ETA \S+",
    "<minutes>": r"\d+\.\d min\b(?!.*%)",                 # the time column of a fresh run's table row
    "<path>": r"/tmp/\S+?(?=[,\s]|$)",
    "<ms>": r"\d+(?:\.\d+)? ms\b",
    # Why there is no GPU depends on the machine (CuPy missing, or present without a usable driver);
    # chapter 12 shows one message and names the other in its prose.
    "<no-gpu>": r"device 'gpu'(?: needs CuPy|: CuPy is installed).*$",
    # A sum of float32 products, whose last bits depend on the BLAS library and the CPU.
    "<float32 rounding>": r"\S+ \(float32 rounding\)",
}
TOLERANCE = 1e-5      # gradcheck's default: a passing check's error below it is rounding noise of the finite
                      # differences, which varies with the BLAS library; compared only as "below the tolerance"
NOISE = re.compile(r"(worst relative error )(\S+)")
NUMBER = re.compile(r"[-+−]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def python_blocks(path):
    """(line number, code, committed output or None) of each ```python block of a Markdown file."""
    text = path.read_text(encoding="utf-8")
    return [(text.count("\n", 0, m.start()) + 2, m.group(1), m.group(2)) for m in BLOCK.finditer(text)]


def needs(code):
    first = code.lstrip().splitlines()[0] if code.strip() else ""
    m = re.match(r"#\s*needs:\s*(\S+)", first)
    return m.group(1) if m else None


@functools.lru_cache(maxsize=None)
def run_chapter(name):
    """Run every block of chapter ``name``; returns (namespace, [(line, code, committed, printed)])."""
    chapter = ROOT / "walkthrough" / name
    namespace = {"__name__": f"walkthrough_{chapter.stem.replace('-', '_')}"}
    ran = []
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MPLBACKEND", "Agg")  # a chapter that plots must never open a window
        mp.chdir(ROOT)
        for line, code, committed in python_blocks(chapter):
            required = needs(code)
            if required and not (ROOT / required).exists():
                continue
            printed = io.StringIO()
            try:
                with contextlib.redirect_stdout(printed):
                    exec(compile(code, f"{chapter.name}:{line}", "exec"), namespace)
            except Exception as exc:
                raise AssertionError(f"{chapter.name}, block starting at line {line} failed: "
                                     f"{type(exc).__name__}: {exc}") from exc
            ran.append((line, code, committed, printed.getvalue()))
    namespace["__printed__"] = "".join(printed for *_, printed in ran)   # for facts about the output
    return namespace, ran


def decimals(token):
    """Digits after the point of a number as written ("0.0179" → 4, "5.1e-08" → 1, "44" → 0)."""
    mantissa = re.split(r"[eE]", token)[0]
    return len(mantissa.split(".")[1]) if "." in mantissa else 0


def same_number(written, printed):
    """Equal within the precision of what is written: one unit in its last digit (float formatting and
    rounding may differ by that much between NumPy versions and BLAS libraries), or 0.1 % of its value;
    two numbers below 1e-12 (float64 rounding noise) are equal."""
    a, b = float(written.replace("−", "-")), float(printed.replace("−", "-"))
    if abs(a) < 1e-12 and abs(b) < 1e-12:          # float64 rounding noise, such as a sum that should be 0
        return True
    exponent = int(re.split(r"[eE]", written)[1]) if re.search(r"[eE]", written) else 0
    unit = 10.0 ** (exponent - decimals(written))
    return abs(a - b) <= max(unit, 1e-3 * abs(a)) * (1 + 1e-9)


def normalise(text):
    for name, pattern in VOLATILE.items():
        text = re.sub(pattern, name, text, flags=re.M)
    text = NOISE.sub(lambda m: m.group(1) + ("<below tolerance>" if float(m.group(2)) < TOLERANCE else m.group(2)),
                     text)
    return [line.rstrip() for line in text.strip("\n").splitlines()]


def output_mismatch(committed, printed):
    """None when the printed output matches the committed one, else a message naming the first difference."""
    want, got = normalise(committed), normalise(printed)
    if len(want) != len(got):
        return (f"{len(want)} lines committed, {len(got)} printed\n--- committed\n{committed}"
                f"--- printed now\n{printed}")
    for i, (w, g) in enumerate(zip(want, got)):
        wn, gn = NUMBER.findall(w), NUMBER.findall(g)
        if NUMBER.sub("#", w).split() != NUMBER.sub("#", g).split() or len(wn) != len(gn) or not all(
                same_number(a, b) for a, b in zip(wn, gn)):
            return f"line {i + 1} differs\n  committed: {w}\n  printed:   {g}"
    return None


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_chapter_runs_and_prints_what_it_says(chapter):
    _, ran = run_chapter(chapter.name)
    assert ran or all(needs(code) for _, code, _ in python_blocks(chapter)), \
        f"{chapter.name} has no ```python block"
    for line, _, committed, printed in ran:
        if committed is None:
            continue
        problem = output_mismatch(committed, printed)
        assert problem is None, (f"{chapter.name}: the output block after the Python block at line {line} is "
                                 f"not what the code prints now: {problem}")


@pytest.mark.parametrize("chapter", CHAPTERS, ids=[c.stem for c in CHAPTERS])
def test_numbers_in_the_prose_are_checked(chapter):
    namespace, _ = run_chapter(chapter.name)
    text = chapter.read_text(encoding="utf-8")
    problems = check_facts(chapter.stem, text, namespace)
    assert not problems, f"{chapter.name}:\n  " + "\n  ".join(problems)


def test_every_fact_and_declaration_names_a_chapter():
    stems = {c.stem[:2] for c in CHAPTERS}
    assert {f.chapter for f in FACTS} <= stems and set(DECLARED) <= stems


def test_the_comparison_tolerates_formatting_only():
    assert output_mismatch("error 5.1e-08 at 0.0179\n", "error 5.12e-08 at 0.01794\n") is None
    assert output_mismatch("lengths 0.0179\n", "lengths 0.0010\n") is not None
    assert output_mismatch("features in 1.4 s\n", "features in 12.9 s\n") is None       # volatile
    assert output_mismatch("fear 33.33%\n", "fear 33.34%\n") is None
    assert output_mismatch("fear 33.33%\n", "fear 36.00%\n") is not None
    assert output_mismatch("three 3s\n", "two 3s\n") is not None
    assert output_mismatch("x: ok  worst relative error 9.84e-08\n", "x: ok  worst relative error 3.1e-07\n") is None
    assert output_mismatch("x: ok  worst relative error 9.84e-08\n", "x: FAIL  worst relative error 3.1e-02\n")
    assert prose_numbers("side lobes 13 dB down; 2 672 parameters; 1e-5; 67.5 %")[0] == ("13 dB", 13.0)


# The eight slips that issue #12 found, each planted back into its chapter: the test must catch every one.
# (chapter, the text as it is now, the slip planted in its place)
PLANTED = [
    ("02", "side lobes are only about 13 dB down", "side lobes are only about 25 dB down"),
    ("02", "pushes them to\nabout 43 dB down", "pushes them to\nabout 45 dB down"),
    ("02", "its ends are 0.08 of its peak", "its ends are 0.00 of its peak"),           # "tapers to zero"
    ("05", "the three 3s in the last window", "the two 3s in the last window"),
    ("05", "for the whole walkthrough: 1e-5", "for the whole walkthrough: 1e-8"),
    ("05", "reach at worst 2.7e-06", "reach at worst 1e-8"),
    ("06", "The worst error, 2.8e-06,", "The worst error, 1e-6,"),
    ("06", "one tolerance, 1e-5", "one tolerance, 1e-3"),
    ("07", "is 0.018 (printed below)", "is 1e-3 (printed below)"),
    ("07", "is still 40 % of its peak", "is still 0 % of its peak"),                    # "vanishes there"
    ("07", "epoch 24 of 30", "epoch 20 of 30"),
    ("07", "test UA 70.0 %", "test UA 67.5 %"),
    ("07", "against 0.29 for \"happy\"", "against 0.25 for \"happy\""),
    ("07", "longest: about 0.84,", "longest: about 0.87,"),
    ("10", "— 12 times fewer parameters", "— 1 times fewer parameters"),              # "the same size class"
    ("12", "from 1.7 min (the LCN", "from 120.0 min (the LCN"),                        # "hours"
]


@pytest.mark.parametrize("chapter, now, slip", PLANTED, ids=[f"{c}:{s[:30]}" for c, _, s in PLANTED])
def test_a_planted_slip_fails(chapter, now, slip):
    path = next(c for c in CHAPTERS if c.stem.startswith(chapter))
    text = path.read_text(encoding="utf-8")
    assert now in text, f"{path.name} no longer says {now!r}: update PLANTED"
    namespace, _ = run_chapter(path.name)
    problems = check_facts(path.stem, text, namespace)
    assert not problems, problems
    assert check_facts(path.stem, text.replace(now, slip), namespace), f"planting {slip!r} went unnoticed"


def test_a_planted_output_fails():
    path = next(c for c in CHAPTERS if c.stem.startswith("07"))
    _, ran = run_chapter(path.name)
    committed, printed = next((c, p) for _, _, c, p in ran if c and "CapsNet's" in c)
    assert output_mismatch(committed, printed) is None
    assert output_mismatch(committed.replace("0.0179", "0.0010"), printed) is not None


def test_the_trained_coupling_figure_matches_its_sidecar_and_its_run():
    """Chapter 7 quotes 07_coupling_trained.json; that file must describe the committed picture (its bars,
    measured on the pixels) and a checkpoint of the committed run (its epoch's test UA)."""
    from walkthrough_facts import epoch, figure_sidecar, trained_coupling_bars
    side = figure_sidecar("07_coupling_trained")
    bars = trained_coupling_bars()
    assert len(bars) == len(side["lengths"])
    for drawn, quoted in zip(bars, side["lengths"]):
        assert abs(drawn - quoted) <= 0.01, (bars, side["lengths"])
    assert abs(epoch("casia-" + side["variant"], side["epoch"])["test_ua"] - side["test_ua"]) < 5e-4


def test_every_figure_is_there_and_used():
    figures = ROOT / "walkthrough" / "figures"
    used = {m for c in CHAPTERS for m in re.findall(r"\]\(figures/([^)]+\.png)\)", c.read_text(encoding="utf-8"))}
    assert {p.name for p in figures.glob("*.png")} == used


def _figure_module(name, tmp_path):
    pytest.importorskip("matplotlib")
    import importlib.util
    spec = importlib.util.spec_from_file_location(name, ROOT / "walkthrough" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.FIG = module.FIGURES = tmp_path              # draw into a scratch folder, not the committed one
    return module


def test_the_diagrams_are_drawn_from_the_code(tmp_path):
    """The four diagrams of #12 are computed from lcn_np (shapes, the tap scatter, the capsule regrouping);
    drawing them must keep working as the code changes."""
    first, second = _figure_module("make_figures", tmp_path), _figure_module("figures_part2", tmp_path)
    first.tap_scatter()
    first.architecture()
    second.channels_to_capsules()
    second.routing_unrolled()
    assert {p.name for p in tmp_path.glob("*.png")} == {
        "05_tap_scatter.png", "09_architecture.png", "06_channels_to_capsules.png", "07_routing_unrolled.png"}
