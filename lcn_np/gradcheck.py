"""Finite-difference gradient checks: how to trust a backward pass.

For an op ``y = f(x1, x2, ...)`` and any fixed upstream gradient ``dout`` the scalar
``L = Σ dout · y`` has partial derivatives

    ∂L/∂x[i] ≈ (L(x + h·e_i) − L(x − h·e_i)) / (2h)          (central difference, error O(h²))

which we compare with what ``backward(dout, cache)`` returns. Everything runs in float64: with
h = 1e-6 the difference quotient is then good to about 1e-9, so a correct backward pass agrees to
~1e-7 while a wrong one is off by orders of magnitude.

The contract checked is the one of :mod:`lcn_np.ops`::

    out, cache = forward(*args, **kwargs)
    grads = backward(dout, cache)        # one gradient per array argument, in order (None: absent)
    grads = backward(cache)              # for a loss, whose ``out`` is a 0-d scalar

The relative error of element i is ``|a − n| / max(|a|, |n|, floor)`` where ``a`` is the analytic and
``n`` the numerical value, and the floor is 1e-3 of the largest numerical gradient of that input, so
that elements whose true gradient is ~0 are judged against the scale of the rest.
"""

from dataclasses import dataclass, field

import numpy

from .backend import array_module, to_numpy


def numerical_gradient(f, x, dout=None, h=1e-6):
    """Central-difference gradient of ``Σ dout · f()`` with respect to the array ``x``.

    ``f`` takes no arguments and reads ``x``, which is changed in place one element at a time and
    restored. ``dout`` has the shape of ``f()``'s result (``None``: the result is a scalar).
    Returns an array shaped like ``x``.
    """
    xp = array_module(x)
    grad = xp.zeros_like(x)
    if not x.flags.c_contiguous:
        raise ValueError("numerical_gradient: x must be C-contiguous so that it can be nudged in place "
                         "(pass xp.ascontiguousarray(x))")
    flat, gflat = x.reshape(-1), grad.reshape(-1)   # views: writing flat[i] changes x

    def loss():
        out = f()
        return float((out * dout).sum()) if dout is not None else float(out)

    for i in range(x.size):
        old = flat[i].item()
        flat[i] = old + h
        plus = loss()
        flat[i] = old - h
        minus = loss()
        flat[i] = old
        gflat[i] = (plus - minus) / (2 * h)
    return grad


@dataclass
class InputReport:
    """How well one input's analytic gradient matches the numerical one."""
    name: str
    max_rel_error: float
    where: tuple = ()
    analytic: float = 0.0
    numerical: float = 0.0
    problem: str = ""          # a shape/dtype problem found before any numbers were compared

    def line(self, tol):
        if self.problem:
            return f"  {self.name}: FAIL — {self.problem}"
        verdict = "ok" if self.max_rel_error <= tol else "FAIL"
        return (f"  {self.name}: {verdict}  worst relative error {self.max_rel_error:.2e} at index {self.where} "
                f"(your backward: {self.analytic:+.6e}, finite differences: {self.numerical:+.6e})")


@dataclass
class GradCheckReport:
    """The result of :func:`check_gradients`: one :class:`InputReport` per checked input."""
    op: str
    tol: float
    inputs: list = field(default_factory=list)

    @property
    def ok(self):
        return all(not r.problem and r.max_rel_error <= self.tol for r in self.inputs)

    @property
    def max_rel_error(self):
        return max((r.max_rel_error for r in self.inputs), default=0.0)

    def __str__(self):
        head = f"gradient check of {self.op}: {'PASSED' if self.ok else 'FAILED'} (tolerance {self.tol:.0e})"
        return "\n".join([head] + [r.line(self.tol) for r in self.inputs])


def relative_error(analytic, numerical):
    """Element-wise relative error with a floor of 1e-3 × the largest |numerical| (see module docstring).

    Returns ``(errors, floor)``; both are NumPy float64.
    """
    a = to_numpy(analytic).astype(numpy.float64)
    n = to_numpy(numerical).astype(numpy.float64)
    floor = max(1e-3 * float(numpy.abs(n).max(initial=0.0)), 1e-12)
    return numpy.abs(a - n) / numpy.maximum(numpy.maximum(numpy.abs(a), numpy.abs(n)), floor), floor


def check_gradients(forward, backward, args, kwargs=None, names=None, wrt=None, tol=1e-5, h=1e-6, seed=0):
    """Compare ``backward`` with finite differences of ``forward`` at ``args``.

    Inputs:
    - forward, backward: an op pair following the :mod:`lcn_np.ops` contract.
    - args: the forward's positional arguments; floating arrays should be float64.
    - kwargs: keyword arguments for the forward (stride, padding, …).
    - names: a name per positional argument for the report (default ``x0, x1, …``).
    - wrt: indices of the arguments to check (default: every floating array whose gradient is returned).
    - tol: the largest acceptable relative error (1e-5: a correct float64 backward typically reaches 1e-8,
      a wrong one is off by more than 1e-3).
    Returns a :class:`GradCheckReport`; ``str(report)`` explains it for a student.
    """
    kwargs = dict(kwargs or {})
    names = list(names) if names is not None else [f"x{i}" for i in range(len(args))]
    op_name = getattr(forward, "__name__", "op").replace("_forward", "")
    report = GradCheckReport(op=op_name, tol=tol)

    out, cache = forward(*args, **kwargs)
    xp = array_module(out)
    scalar = getattr(out, "ndim", 0) == 0
    if scalar:
        dout = None
        grads = backward(cache)
    else:
        rng = numpy.random.default_rng(seed)
        dout = xp.asarray(rng.standard_normal(out.shape)).astype(out.dtype)
        grads = backward(dout, cache)
    if not isinstance(grads, tuple):
        grads = (grads,)

    if wrt is None:
        wrt = [i for i, a in enumerate(args)
               if i < len(grads) and a is not None and getattr(getattr(a, "dtype", None), "kind", "") == "f"]
    for i in wrt:
        x, name = args[i], names[i]
        if i >= len(grads) or grads[i] is None:
            report.inputs.append(InputReport(name, numpy.inf, problem="backward returned no gradient for it"))
            continue
        g = grads[i]
        if tuple(g.shape) != tuple(x.shape):
            report.inputs.append(InputReport(
                name, numpy.inf, problem=f"gradient has shape {tuple(g.shape)}, the input has shape {tuple(x.shape)}"))
            continue
        if g.dtype != x.dtype:
            report.inputs.append(InputReport(
                name, numpy.inf, problem=f"gradient has dtype {g.dtype}, the input has dtype {x.dtype}"))
            continue

        def f():
            return forward(*args, **kwargs)[0]

        num = numerical_gradient(f, x, dout, h=h)
        err, _ = relative_error(g, num)
        k = int(numpy.argmax(err)) if err.size else 0
        where = tuple(int(v) for v in numpy.unravel_index(k, err.shape)) if err.size else ()
        report.inputs.append(InputReport(
            name, float(err.reshape(-1)[k]) if err.size else 0.0, where,
            float(to_numpy(g).reshape(-1)[k]) if err.size else 0.0,
            float(to_numpy(num).reshape(-1)[k]) if err.size else 0.0))
    return report


def assert_gradients_close(forward, backward, args, **kw):
    """:func:`check_gradients`, raising ``AssertionError`` with the full report when it fails."""
    report = check_gradients(forward, backward, args, **kw)
    assert report.ok, str(report)
    return report
