"""Argument checks shared by the ops: a wrong shape is a ``ValueError`` that names the argument,
the shape it should have and the shape it has."""


def expect_ndim(name, x, ndim, layout):
    """Raise unless ``x`` has ``ndim`` axes; ``layout`` spells them out, e.g. ``'(N, C, H, W)'``."""
    if getattr(x, "ndim", None) != ndim:
        got = getattr(x, "shape", type(x).__name__)
        raise ValueError(f"{name}: expected a {ndim}-D array of shape {layout}, got shape {got}")


def expect_shape(name, x, shape):
    """Raise unless ``x.shape`` matches ``shape``; ``None`` in ``shape`` matches any size."""
    got = tuple(getattr(x, "shape", ()))
    ok = len(got) == len(shape) and all(s is None or s == g for s, g in zip(shape, got))
    if not ok:
        want = "(" + ", ".join("*" if s is None else str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
        raise ValueError(f"{name}: expected shape {want}, got {got}")


def expect_float(name, x):
    """Raise unless ``x`` is a floating-point array (the ops keep float32 as float32, float64 as float64)."""
    kind = getattr(getattr(x, "dtype", None), "kind", None)
    if kind != "f":
        raise ValueError(f"{name}: expected a floating-point array, got dtype {getattr(x, 'dtype', type(x).__name__)}")
