"""The package's shape: one route to the ops, no old module paths anywhere, a wheel with exactly the
source tree's modules, and ``python -m lcn_np`` listing the commands."""

import pathlib
import re
import shutil
import subprocess
import sys
import zipfile

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
OP_MODULES = ("spectrogram", "conv", "pooling", "activations", "normalization", "linear", "capsules", "routing",
              "losses", "checks")
DATA_MODULES = ("audio", "corpora", "synthetic", "features", "augment", "splits")
# the flat 0.1 layout: lcn_np.signal, lcn_np.conv, … lcn_np.features (see CHANGELOG.md)
OLD_PATH = re.compile(r"(?<![/\w])lcn_np[./](signal|conv|pooling|activations|normalization|linear|capsules|routing|losses|"
                      r"checks|audio|corpora|synthetic|features|augment|splits)\b")
# reaching past ops/__init__.py into one of its modules
PAST_THE_ROUTE = re.compile(r"lcn_np\.ops\.(" + "|".join(OP_MODULES) + r")\b|from \.+ops\.(" + "|".join(OP_MODULES) + r")\b")


def project_files():
    """Every file of the project that git knows or would add (tracked, or untracked and not ignored)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    out = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout.split()
    return [ROOT / f for f in out if (ROOT / f).is_file()]


def text_files():
    return [p for p in project_files() if p.suffix in (".py", ".md", ".toml", ".txt", ".cfg") or p.name == "run"]


def test_the_three_parts_exist_and_signal_py_does_not():
    assert (ROOT / "lcn_np" / "ops" / "__init__.py").is_file() and (ROOT / "lcn_np" / "data" / "__init__.py").is_file()
    assert not (ROOT / "lcn_np" / "signal.py").exists()
    assert sorted(p.stem for p in (ROOT / "lcn_np" / "ops").glob("*.py") if p.stem != "__init__") == sorted(OP_MODULES)
    assert sorted(p.stem for p in (ROOT / "lcn_np" / "data").glob("*.py") if p.stem != "__init__") == sorted(DATA_MODULES)


def test_no_file_names_an_old_module_path():
    offenders = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in text_files() if p.name != "CHANGELOG.md"
                 and p.name != "test_package.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if OLD_PATH.search(line)]
    assert not offenders, "old module paths (see CHANGELOG.md for the new ones):\n" + "\n".join(offenders)


def test_outside_ops_every_op_is_reached_through_lcn_np_ops():
    inside = ROOT / "lcn_np" / "ops"
    offenders = [f"{p.relative_to(ROOT)}:{i}: {line.strip()}" for p in text_files()
                 if inside not in p.parents and p.name != "test_package.py"
                 for i, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if PAST_THE_ROUTE.search(line)]
    assert not offenders, "use `from lcn_np import ops` (or `from lcn_np.ops import name`):\n" + "\n".join(offenders)


def test_python_m_lcn_np_lists_the_commands():
    out = subprocess.run([sys.executable, "-m", "lcn_np"], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    for cmd in ("lcn_np.train", "lcn_np.predict", "lcn_np.bench", "lcn_np.grade", "lcn_np.data.synthetic"):
        assert f"python -m {cmd} " in out


def test_license_and_changelog_exist():
    assert "MIT License" in (ROOT / "LICENSE").read_text()
    assert "lcn_np.signal" in (ROOT / "CHANGELOG.md").read_text()


def test_a_wheel_built_from_a_clean_copy_holds_exactly_the_source_modules(tmp_path):
    """Built from a copy of the tree without build/ (a stale build/ can leak old modules into a wheel)."""
    copy = tmp_path / "src"
    for p in project_files():
        rel = p.relative_to(ROOT)
        if rel.parts[0] in ("build", "dist") or rel.suffix == ".png":
            continue
        (copy / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(p, copy / rel)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path / "dist"), str(copy)], capture_output=True, text=True)
    if done.returncode != 0 and "No module named" in done.stderr:
        pytest.skip(f"cannot build a wheel here: {done.stderr.strip().splitlines()[-1]}")
    assert done.returncode == 0, done.stderr
    wheel, = (tmp_path / "dist").glob("lcn_np-*.whl")
    in_wheel = {n for n in zipfile.ZipFile(wheel).namelist() if n.endswith(".py")}
    in_tree = {str(p.relative_to(ROOT)) for p in project_files()
               if p.suffix == ".py" and p.relative_to(ROOT).parts[0] == "lcn_np"}
    assert in_wheel == in_tree, f"only in the wheel: {in_wheel - in_tree}; only in the tree: {in_tree - in_wheel}"
