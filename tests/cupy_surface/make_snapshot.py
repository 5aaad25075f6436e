"""Write ``cupy_surface.json``: the names CuPy provides and the keywords its functions take.

    pip install cupy-cuda12x            # imports without a GPU; nothing here creates an array
    python tests/cupy_surface/make_snapshot.py

The snapshot is committed, so that ``tests/test_cupy_surface.py`` can check every array-module name and
keyword lcn_np uses against CuPy on machines without CuPy (the test suite never needs it). Rerun this
script when CuPy changes, or when lcn_np starts using a CuPy submodule that is not in ``MODULES``.

For each module: every public name, as a submodule, a type, a constant, a ufunc (its keywords from the
first line of its docstring, which CuPy writes as a signature) or a function (its keywords from that first
line too — more exact than ``inspect.signature`` for the many CuPy functions declared ``(*args, **kwargs)``
— or else from ``inspect.signature``). ``cupy.ndarray``'s methods are recorded the same way.
"""

import inspect
import json
import pathlib
import re
import types

MODULES = ["cupy", "cupy.fft", "cupy.lib", "cupy.lib.stride_tricks", "cupy.linalg", "cupy.random", "cupy.cuda",
           "cupy.cuda.runtime"]
SNAPSHOT = pathlib.Path(__file__).with_name("cupy_surface.json")


def _split_params(text):
    """Parameter names of a signature's text; '*name' → varargs, '**name' → varkw, before '/' → positional only."""
    depth, parts, cur = 0, [], ""
    for ch in text:
        depth += ch in "([{"
        depth -= ch in ")]}"
        if ch == "," and depth == 0:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    parts.append(cur)
    keywords, varargs, varkw = [], False, False
    for p in (p.strip().replace("\\", "") for p in parts):
        name = re.split(r"[=:]", p)[0].strip()
        if name == "/":
            keywords = []                                  # everything so far was positional-only
        elif name.startswith("**"):
            varkw = True
        elif name.startswith("*"):
            varargs = varargs or name != "*"
        elif name and name != "self":
            keywords.append(name)
    return {"keywords": keywords, "varargs": varargs, "varkw": varkw}


def parameters(obj, name):
    """{'keywords': [...], 'varargs': bool, 'varkw': bool}, or None when CuPy does not say. An alias
    (``cupy.abs`` is ``absolute``) has the signature of its target on its docstring's first line."""
    first = (getattr(obj, "__doc__", None) or "").strip().splitlines()[:1]
    own = r"\w+" if type(obj).__name__ == "ufunc" else re.escape(name)
    m = re.match(rf"^[\w.]*\b{own}\((.*)\)(\s*->.*)?$", first[0]) if first else None
    if m:
        return _split_params(m.group(1))
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    kinds = inspect.Parameter
    return {"keywords": [p.name for p in sig.parameters.values()
                         if p.kind in (kinds.POSITIONAL_OR_KEYWORD, kinds.KEYWORD_ONLY) and p.name != "self"],
            "varargs": any(p.kind == kinds.VAR_POSITIONAL for p in sig.parameters.values()),
            "varkw": any(p.kind == kinds.VAR_KEYWORD for p in sig.parameters.values())}


def describe(obj, name):
    if isinstance(obj, types.ModuleType):
        return {"kind": "module"}
    if isinstance(obj, type):
        return {"kind": "type"}
    if type(obj).__name__ == "ufunc":
        return {"kind": "ufunc", "params": parameters(obj, name),
                "attributes": sorted(n for n in dir(obj) if not n.startswith("_"))}
    if callable(obj):
        return {"kind": "function", "params": parameters(obj, name)}
    return {"kind": "constant"}


def surface(cupy):
    """The snapshot of an imported ``cupy`` module, as a dict ready for JSON."""
    modules = {}
    for path in MODULES:
        module = cupy
        for part in path.split(".")[1:]:
            module = getattr(module, part)
        modules[path] = {n: describe(getattr(module, n), n) for n in sorted(dir(module))
                         if not n.startswith("_") and hasattr(module, n)}
    modules["cupy.ndarray"] = {n: describe(getattr(cupy.ndarray, n), n) for n in sorted(dir(cupy.ndarray))
                               if not n.startswith("_")}
    return {"cupy_version": cupy.__version__, "generated_by": "tests/cupy_surface/make_snapshot.py",
            "modules": modules}


def main():
    import cupy
    snapshot = surface(cupy)
    SNAPSHOT.write_text(json.dumps(snapshot, indent=1, sort_keys=True) + "\n")
    n = sum(len(v) for v in snapshot["modules"].values())
    print(f"wrote {SNAPSHOT}: CuPy {cupy.__version__}, {n} names in {len(snapshot['modules'])} modules")


if __name__ == "__main__":
    main()
