"""Every array-module name and keyword lcn_np uses exists in CuPy: against the committed snapshot of CuPy's
API (``tests/cupy_surface/``, written by its ``make_snapshot.py``) and, where ``cupy`` imports, live.

The scan reads the package's source with :mod:`ast`. An array module is ``xp``, ``cupy``, a name assigned
from ``array_module(...)``/``device_module()``, or such a call itself; for each attribute chain on one
(``xp.fft.rfft``, ``array_module(v).zeros_like``) every link must exist, and each keyword passed must be
one the function takes. Keywords of array *methods* (``x.astype(dtype, copy=False)``) are checked against
``cupy.ndarray`` in the modules that hold array code. The stand-in (:mod:`lcn_np.standin`) cannot find
these: it is NumPy underneath and has every NumPy name.
"""

import ast
import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "lcn_np"
SNAPSHOT = ROOT / "tests" / "cupy_surface" / "cupy_surface.json"
MODULE_FACTORIES = {"array_module", "device_module", "_import_cupy"}
ARRAY_CODE = ["ops/*.py", "layers.py", "model.py", "mobilenet.py", "optim.py", "gradcheck.py"]


def _factory_call(node):
    """True for ``array_module(...)``, ``backend.device_module()`` and the like."""
    if not isinstance(node, ast.Call):
        return False
    f = node.func
    return (isinstance(f, ast.Name) and f.id in MODULE_FACTORIES) or \
        (isinstance(f, ast.Attribute) and f.attr in MODULE_FACTORIES)


def _chain(node, module_names):
    """``['fft', 'rfft']`` for ``xp.fft.rfft`` (``node`` the outermost Attribute), else None."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if (isinstance(node, ast.Name) and node.id in module_names) or _factory_call(node):
        return parts[::-1]
    return None


def _root(node):
    """The name an expression starts from: ``numpy`` for ``numpy.abs(n).max``, ``dout`` for ``dout.sum``."""
    while isinstance(node, (ast.Attribute, ast.Call, ast.Subscript)):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def uses(source, filename, check_methods=False):
    """(filename:line, chain, keywords) for every array-module attribute in ``source``, and
    (filename:line, ['ndarray', method], keywords) for method calls with keywords when ``check_methods``."""
    tree = ast.parse(source, filename)
    module_names = {"xp", "cupy"}
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and _factory_call(node.value):
            module_names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            imported |= {(a.asname or a.name).split(".")[0] for a in node.names}
    found, inner = [], set()
    calls = {id(n.func): n for n in ast.walk(tree) if isinstance(n, ast.Call)}
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute) or id(node) in inner:
            continue
        sub = node.value
        while isinstance(sub, ast.Attribute):           # only the outermost attribute of a chain counts
            inner.add(id(sub))
            sub = sub.value
        call = calls.get(id(node))
        keywords = [k.arg for k in call.keywords if k.arg] if call else []
        chain = _chain(node, module_names)
        if chain is not None:
            if not any(p.startswith("__") for p in chain):
                found.append((f"{filename}:{node.lineno}", chain, keywords))
        elif check_methods and keywords and _root(node.value) not in imported:   # numpy.abs(a).max(…): host
            found.append((f"{filename}:{node.lineno}", ["ndarray", node.attr], keywords))
    return found


def package_uses():
    found = []
    array_code = {p for pattern in ARRAY_CODE for p in PACKAGE.glob(pattern)}
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "standin.py":                     # NumPy underneath by design
            continue
        found += uses(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)), path in array_code)
    return found


def resolve(chain, modules):
    """(entry, problem) for ``xp.a.b.c``: the snapshot's entry of the last link (None when there is nothing
    to check further: a ufunc's or a class's own attributes), or the reason it is not in CuPy."""
    path = "cupy"
    for i, part in enumerate(chain):
        names = modules.get(path)
        if names is None:
            return None, f"{path} is not in the snapshot (add it to MODULES in tests/cupy_surface/make_snapshot.py)"
        entry = names.get(part)
        if entry is None:
            return None, f"CuPy has no {path}.{part}"
        last = i == len(chain) - 1
        if last:
            return entry, None
        if entry["kind"] == "ufunc" and chain[i + 1] in entry["attributes"]:      # xp.add.at
            return None, None
        if entry["kind"] == "type":                                                # xp.cuda.Device.x
            return None, None
        if entry["kind"] != "module":
            return None, f"{path}.{part} is a {entry['kind']}, not a module"
        path = f"{path}.{part}"


def problems(found, surface):
    """What CuPy (``surface``: a snapshot dict) lacks, one line each."""
    modules, version, out = surface["modules"], surface["cupy_version"], []
    for where, chain, keywords in found:
        if chain[0] == "ndarray":
            entry, problem = modules["cupy.ndarray"].get(chain[1]), None   # None: a dict's or a Path's method
            label = f"ndarray.{chain[1]}"
        else:
            entry, problem = resolve(chain, modules)
            label = "xp." + ".".join(chain)
        if problem:
            out.append(f"{where}: {label}: {problem} (CuPy {version})")
        params = entry.get("params") if entry else None
        if params and not params["varkw"]:
            out += [f"{where}: {label}(…, {k}=…): CuPy {version} does not take the keyword {k!r} "
                    f"(it takes {', '.join(params['keywords'])})" for k in keywords if k not in params["keywords"]]
    return out


def snapshot():
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


def live_surface():
    cupy = pytest.importorskip("cupy", reason="CuPy is not installed: checked against the snapshot only")
    spec = importlib.util.spec_from_file_location("make_snapshot", SNAPSHOT.with_name("make_snapshot.py"))
    make_snapshot = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_snapshot)
    return make_snapshot.surface(cupy)


def test_the_snapshot_names_its_cupy_version_and_the_submodules_we_use():
    snap = snapshot()
    assert snap["cupy_version"] and snap["generated_by"] == "tests/cupy_surface/make_snapshot.py"
    for module in ("cupy", "cupy.fft", "cupy.lib.stride_tricks", "cupy.ndarray"):
        assert snap["modules"][module], module


def test_the_scan_finds_what_the_package_uses():
    """The scan must see the uses we know of, or the next test would pass by seeing nothing."""
    found = {(".".join(chain), tuple(kw)) for _, chain, kw in package_uses()}
    names = {name for name, _ in found}
    assert {"fft.rfft", "fft.irfft", "lib.stride_tricks.as_strided", "einsum", "copyto", "take_along_axis",
            "asarray", "zeros_like", "ascontiguousarray"} <= names
    assert ("multiply", ("out",)) in found and ("fft.rfft", ("n", "axis")) in found
    assert ("matmul", ("out",)) in found and ("copyto", ("where",)) in found
    assert ("ndarray.astype", ("copy",)) in found and ("ndarray.sum", ("axis", "keepdims")) in found


def test_every_array_module_name_and_keyword_the_package_uses_is_in_the_snapshot():
    found = package_uses()
    assert not problems(found, snapshot()), "\n" + "\n".join(problems(found, snapshot()))


def test_the_check_fails_for_what_cupy_lacks():
    source = ("def f(x):\n    xp = array_module(x)\n    xp.add.at(x, 0, 1)\n    xp.nonexistent_fn(x)\n"
              "    xp.zeros(3, like=x)\n    xp.fft.nonexistent(x)\n    xp.einsum('i->', x, out=x)\n"
              "    x.astype('f4', nonsense=True)\n")
    out = problems(uses(source, "planted.py", check_methods=True), snapshot())
    assert len(out) == 5 and not any("add.at" in line for line in out), "\n".join(out)
    for text in ("no cupy.nonexistent_fn", "keyword 'like'", "no cupy.fft.nonexistent", "keyword 'out'",
                 "keyword 'nonsense'"):
        assert any(text in line for line in out), text


def test_every_array_module_name_and_keyword_the_package_uses_is_in_the_installed_cupy():
    found = package_uses()
    out = problems(found, live_surface())
    assert not out, "\n" + "\n".join(out)
