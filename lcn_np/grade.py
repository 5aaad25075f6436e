"""Grade a classroom exercise: ``python -m lcn_np.grade walkthrough/exercises/squash_backward.py``.

An exercise file defines one backward function with the real signature (``squash_backward(dout, cache)``
and so on); the forward pass comes from lcn_np itself. The grader

1. imports the file and finds the function (a syntax error is shown with its line, not as a traceback);
2. calls it once on a small case: an untouched skeleton raises ``NotImplementedError`` and is told
   where to start; any other exception is shown with the line of the student's file it came from;
3. checks the shapes and dtypes of what came back (float32 in must give float32 out);
4. runs the float64 finite-difference gradient check of :mod:`lcn_np.gradcheck` and, when it fails,
   says which input and element, the expected and received value, and a hint for the usual mistakes.

Exit status 0 when every step passes, 1 otherwise — so a teacher can grade a folder with a shell loop.
"""

import argparse
import importlib.util
import pathlib
import sys
import traceback
from dataclasses import dataclass, field

import numpy

from .gradcheck import check_gradients


@dataclass
class Exercise:
    """What the grader needs to know about one exercise."""
    function: str            # the backward the student writes, e.g. "squash_backward"
    forward: callable        # lcn_np's forward pass it belongs to
    make_args: callable      # rng, dtype -> (positional args, kwargs, names)
    hints: list = field(default_factory=list)


def _exercises():
    """The registry, built lazily so that importing this module imports no op."""
    from . import ops

    def spectrogram_args(rng, dtype):
        return [rng.standard_normal((2, 61)).astype(dtype)], dict(n_fft=16, hop_length=5, win_length=11), ["x"]

    def depthwise_args(rng, dtype):
        x = rng.standard_normal((2, 3, 7, 9)).astype(dtype)
        w = rng.standard_normal((3, 1, 3, 3)).astype(dtype)
        b = rng.standard_normal(3).astype(dtype)
        return [x, w, b], dict(stride=2, padding=1), ["x", "w", "b"]

    def pointwise_args(rng, dtype):
        x = rng.standard_normal((2, 3, 5, 7)).astype(dtype)
        w = rng.standard_normal((4, 3, 1, 1)).astype(dtype)
        b = rng.standard_normal(4).astype(dtype)
        return [x, w, b], {}, ["x", "w", "b"]

    def squash_args(rng, dtype):
        return [rng.standard_normal((3, 5, 7)).astype(dtype)], {}, ["s"]

    def routing_args(rng, dtype):
        return ([0.5 * rng.standard_normal((2, 7, 3, 5)).astype(dtype)],
                dict(iterations=3, agreement="cosine"), ["u_hat"])

    def margin_args(rng, dtype):
        lengths = rng.uniform(0.02, 0.98, size=(5, 4)).astype(dtype)
        labels = rng.integers(0, 4, size=5)
        return [lengths, labels], {}, ["lengths", "labels"]

    def maxpool_args(rng, dtype):
        return [rng.standard_normal((2, 3, 7, 9)).astype(dtype)], dict(size=2, stride=2), ["x"]

    def batchnorm_args(rng, dtype):
        c = 3
        return ([rng.standard_normal((4, c, 5, 7)).astype(dtype), rng.uniform(0.5, 1.5, c).astype(dtype),
                 rng.standard_normal(c).astype(dtype), numpy.zeros(c, dtype), numpy.ones(c, dtype)],
                dict(train=True), ["x", "gamma", "beta", "running_mean", "running_var"])

    batch_hint = ("A gradient that is off by a constant factor everywhere often means a forgotten sum or mean "
                  "over the batch: every weight is used by every example, so its gradient adds up over n.")
    return {
        "power_spectrogram": Exercise("power_spectrogram_backward", ops.power_spectrogram_forward, spectrogram_args, [
            "d|X|²/dX: the power is Re² + Im², so the gradient with respect to the spectrum is 2·dP·X.",
            "The DC and Nyquist bins appear once in rfft's output but the other bins stand for two DFT bins.",
            "Multiply by the window after the inverse FFT: the frame was windowed before the FFT.",
            "Overlapping frames share samples: their gradients add up (overlap-add).",
        ]),
        "depthwise_conv2d": Exercise("depthwise_conv2d_backward", ops.depthwise_conv2d_forward, depthwise_args, [
            batch_hint,
            "With stride 2 the window of output (i, j) starts at input (2i, 2j) of the padded input.",
            "Remove the padding from dx at the end: the gradient of the zeros you padded with is thrown away.",
        ]),
        "pointwise_conv2d": Exercise("pointwise_conv2d_backward", ops.pointwise_conv2d_forward, pointwise_args, [
            batch_hint,
            "A 1×1 convolution is a matrix product over channels at every pixel: dx = wᵀ·dout, dw = dout·xᵀ summed "
            "over batch and pixels.",
        ]),
        "squash": Exercise("squash_backward", ops.squash_forward, squash_args, [
            "Squash mixes the components of one capsule: its Jacobian is not diagonal. Write v = g(|s|²)·s and "
            "use the product rule: dv/ds = g·I + 2·g'(|s|²)·s·sᵀ.",
            "Keep ε inside the square root exactly as the forward does.",
        ]),
        "routing": Exercise("routing_backward", ops.routing_forward, routing_args, [
            "Walk the iterations in reverse and carry the gradient of the logits b from one iteration to the one "
            "before: b is a running sum, so db flows unchanged into every earlier iteration.",
            "The softmax Jacobian: dc/db = c·(δ − c) over the output-capsule axis j — not over the inputs i.",
            "Cosine agreement differentiates through both norms: d cos/dû = v/(|û||v|) − cos·û/|û|².",
        ]),
        "margin_loss": Exercise("margin_loss_backward", ops.margin_loss_forward, margin_args, [
            batch_hint.replace("every weight is used by every example, so its gradient adds up over n",
                               "the loss is a mean over the batch, so each example's gradient is divided by n"),
            "max(0, m − |v|)² has derivative −2·max(0, m − |v|): mind the sign and the factor 2.",
            "The absent-class term carries the factor λ.",
        ]),
        "maxpool2d": Exercise("maxpool2d_backward", ops.maxpool2d_forward, maxpool_args, [
            "Only the position that held the maximum receives the gradient; the others get 0.",
            "With an odd input size the last row/column is not covered by any window (floor mode).",
        ]),
        "batchnorm2d": Exercise("batchnorm2d_backward", ops.batchnorm2d_forward, batchnorm_args, [
            "In training mode the mean and the variance depend on x as well: dx has three terms.",
            "Average over (N, H, W) — every axis except the channel axis.",
        ]),
    }


class GradeError(Exception):
    """A step failed; the message is for the student."""


def load_student_module(path):
    """Import the student's file; a syntax error becomes a :class:`GradeError` with its line."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise GradeError(f"{path}: no such file. Pass the path of your exercise file, "
                         f"e.g. walkthrough/exercises/squash_backward.py")
    spec = importlib.util.spec_from_file_location(f"student_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise GradeError(f"{path}, line {exc.lineno}: Python cannot read your file: {exc.msg}.\n"
                         f"    {(exc.text or '').rstrip()}") from None
    except Exception as exc:
        raise GradeError(f"{path}: importing your file failed: {type(exc).__name__}: {exc}"
                         f"{_student_line(exc, path)}") from None
    return module


def _student_line(exc, path):
    """' (line N of your file: <code>)' for the deepest frame of the traceback in the student's file."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if pathlib.Path(f.filename) == pathlib.Path(path)]
    if not frames:
        return ""
    f = frames[-1]
    return f"\n    at line {f.lineno} of your file: {f.line}"


def find_exercise(module, path):
    """The exercise a file answers: named by ``EXERCISE = "squash"`` or by the backward it defines."""
    registry = _exercises()
    name = getattr(module, "EXERCISE", None)
    if name is None:
        # only functions the file defines itself count (an exercise may import lcn_np's squash_backward)
        found = [key for key, ex in registry.items()
                 if getattr(getattr(module, ex.function, None), "__module__", None) == module.__name__]
        if len(found) != 1:
            known = ", ".join(ex.function for ex in registry.values())
            raise GradeError(f"{path}: cannot tell which exercise this is. Define exactly one of: {known} "
                             f"(or set EXERCISE = '<name>').")
        name = found[0]
    if name not in registry:
        raise GradeError(f"{path}: EXERCISE = {name!r} is not one of {sorted(registry)}")
    ex = registry[name]
    fn = getattr(module, ex.function, None)
    if not callable(fn):
        raise GradeError(f"{path}: exercise {name!r} needs a function named {ex.function}(...)")
    return name, ex, fn


def _call_backward(fn, ex, out, cache, path):
    """Call the student's backward the way the contract says (losses take only the cache)."""
    try:
        if getattr(out, "ndim", 0) == 0:
            return fn(cache)
        rng = numpy.random.default_rng(3)
        return fn(rng.standard_normal(out.shape).astype(out.dtype), cache)
    except NotImplementedError:
        raise GradeError(f"{path}: {ex.function} is not written yet — fill in the place marked "
                         f"'YOUR CODE HERE' and remove the `raise NotImplementedError` line.") from None
    except Exception as exc:
        raise GradeError(f"{path}: {ex.function} raised {type(exc).__name__}: {exc}{_student_line(exc, path)}") from None


def check_shapes_and_dtypes(fn, ex, path):
    """Step 3: one gradient per array input, each of its input's shape and dtype (float32 and float64)."""
    for dtype in (numpy.float64, numpy.float32):
        args, kwargs, names = ex.make_args(numpy.random.default_rng(7), dtype)
        out, cache = ex.forward(*args, **kwargs)
        grads = _call_backward(fn, ex, out, cache, path)
        if not isinstance(grads, tuple):
            grads = (grads,)
        for arg, name, g in zip(args, names, grads):
            if arg is None or getattr(arg, "dtype", numpy.dtype(int)).kind != "f":
                continue
            if g is None or not hasattr(g, "shape"):
                raise GradeError(f"{path}: {ex.function} returned {type(g).__name__} as the gradient of {name}; "
                                 f"expected an array of shape {arg.shape}.")
            if g.shape != arg.shape:
                raise GradeError(f"{path}: the gradient of {name} has shape {g.shape} but {name} has shape "
                                 f"{arg.shape}: a gradient always has the shape of what it is the gradient of.")
            if g.dtype != arg.dtype:
                raise GradeError(f"{path}: with {numpy.dtype(dtype).name} inputs the gradient of {name} is "
                                 f"{g.dtype}; keep the input's dtype (float32 training stays float32).")
            if not numpy.all(numpy.isfinite(g)):
                raise GradeError(f"{path}: the gradient of {name} contains NaN or inf.")


def diagnose(report, ex):
    """Turn a failed gradient check into advice: the ratio of received to expected values is telling."""
    lines = []
    for r in report.inputs:
        if r.problem or r.max_rel_error <= report.tol:
            continue
        ratio = r.analytic / r.numerical if r.numerical else numpy.inf
        lines.append(f"{r.name}: at index {r.where} your backward gives {r.analytic:+.6e} but finite "
                     f"differences give {r.numerical:+.6e} (relative error {r.max_rel_error:.1e}).")
        if numpy.isfinite(ratio):
            if abs(ratio + 1) < 1e-3:
                lines.append("  Yours is exactly the negative: check a sign.")
            elif abs(ratio - round(ratio)) < 1e-3 and round(ratio) not in (0, 1):
                lines.append(f"  Yours is {round(ratio)}× too large: a missing division (batch mean?) or a "
                             "double-counted term.")
            elif ratio and abs(1 / ratio - round(1 / ratio)) < 1e-3 and round(1 / ratio) not in (0, 1):
                lines.append(f"  Yours is {round(1 / ratio)}× too small: a missing factor (the 2 of a square?) "
                             "or a sum you took as a mean.")
    lines += [f"Hint: {h}" for h in ex.hints]
    return "\n".join(lines)


def grade(path, tol=1e-5):
    """Grade one exercise file; returns ``(passed, text)``."""
    try:
        module = load_student_module(path)
        name, ex, fn = find_exercise(module, path)
        check_shapes_and_dtypes(fn, ex, path)
        args, kwargs, names = ex.make_args(numpy.random.default_rng(11), numpy.float64)
        report = check_gradients(ex.forward, fn, args, kwargs=kwargs, names=names, tol=tol)
    except GradeError as exc:
        return False, f"NOT YET: {exc}"
    text = f"exercise {name}: shapes and dtypes ok\n{report}"
    if not report.ok:
        return False, text + "\n\n" + diagnose(report, ex)
    return True, text + "\n\nWell done: your gradient matches finite differences."


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lcn_np.grade", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="exercise files to grade")
    parser.add_argument("--tol", type=float, default=1e-5, help="largest accepted relative error (default 1e-5)")
    args = parser.parse_args(argv)
    all_ok = True
    for path in args.files:
        ok, text = grade(path, tol=args.tol)
        print(f"== {path}\n{text}\n")
        all_ok &= ok
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
