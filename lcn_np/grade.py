"""Grade a classroom exercise: ``python -m lcn_np.grade walkthrough/exercises/squash_backward.py [--hint N]``.

An exercise file defines one backward function with the real signature (``squash_backward(dout, cache)``
and so on); the forward pass comes from lcn_np itself. The grader

1. imports the file and finds the function (a syntax error is shown with its line, not as a traceback);
2. calls it once on a small case: an untouched skeleton raises ``NotImplementedError`` and is told
   where to start; any other exception is shown with the line of the student's file it came from;
3. checks the number, shapes and dtypes of the gradients (float32 in must give float32 out); a wrong
   shape is explained (axes in another order, padding not cut back, a summed-away axis);
4. grades in **stages**, simplest first (routing at R = 1, then 2, then 3, dot before cosine; squash
   with an upstream gradient across s, then along s; …). Each stage compares every gradient with float64
   finite differences of the forward and is reported, so a student learns *which part* is wrong;
5. explains a failing gradient from the arrays alone, never from the source text: the share of wrong
   elements, the least-squares ratio yours/expected (a sign, a batch size, a 2), axes transposed or
   flipped, a shift, where the wrong elements lie; then what the first failing stage points to;
6. watches, while the student's function runs, for a call of lcn_np's own version of it (by the code
   object, whatever name it was imported under) and reports it beside the diagnosis.

Hints come in tiers, ``--hint 1`` … ``--hint 3``, from a nudge to the idea; none prints the answer.
Exit status 0 when every file passes, 1 otherwise — so a teacher can grade a folder with a shell loop.
"""

import argparse
import contextlib
import importlib.util
import itertools
import pathlib
import sys
import traceback
import warnings
from dataclasses import dataclass, field

import numpy

from .gradcheck import numerical_gradient


@dataclass
class Stage:
    """One graded case: its arguments, the upstream gradient, and what a failure here points to."""
    name: str
    make_args: callable      # rng, dtype -> (positional args, kwargs)
    dout: callable = None    # (rng, out, cache) -> dout; None: standard normal (losses: none)
    means: str = ""          # what it tells the student when this is the first stage to fail
    regions: callable = None  # (args, kwargs, cache) -> {input name: {region name: boolean mask}}
    error_means: str = ""    # what an exception in this stage points to (default: ``means``)
    target: str = None       # the input ``means`` is about (None: all of them)


@dataclass
class Exercise:
    """What the grader needs to know about one exercise."""
    function: str            # the backward the student writes, e.g. "squash_backward"
    forward: callable        # lcn_np's forward pass it belongs to
    reference: callable      # lcn_np's own backward: watched for, and the scale of a zero gradient
    names: list              # the forward's positional arguments
    axes: dict               # every input that gets a gradient, in order -> its axis labels ("N", "C", "H", "W")
    stages: list
    sizes: callable = None   # (args, kwargs) -> {"the batch size N": 2, ...}: factors worth naming
    hints: list = field(default_factory=list)   # tiers, gentle → specific; never the formula
    also_watched: tuple = ()  # other lcn_np functions that compute this exercise's answer outright
    mistakes: list = field(default_factory=list)  # (tag, "what you get when …", (dout, cache) -> grads)
    input_means: dict = field(default_factory=dict)  # input -> what its gradient failing alone points to


def _normal(rng, shape, dtype, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(dtype)


def _exercises():
    """The registry, built lazily so that importing this module imports no op."""
    from . import ops

    # ---------------------------------------------------------------- power spectrogram
    def spec_args(n_fft, T=61, batched=True):
        def make(rng, dtype):
            x = _normal(rng, (2, T) if batched else (T,), dtype)
            return [x], dict(n_fft=n_fft, hop_length=5, win_length=11)
        return make

    def only_bins(which):
        def dout(rng, out, cache):
            d = rng.standard_normal(out.shape)
            keep = numpy.zeros(out.shape[-2], bool)
            last = out.shape[-2] - 1
            if which == "inner":
                keep[1:last if cache["n_fft"] % 2 == 0 else last + 1] = True
            elif which == "dc":
                keep[0] = True
            else:
                keep[last] = True
            return (d * keep[:, None]).astype(out.dtype)
        return dout

    spec_sizes = lambda args, kw: {"n_fft": kw["n_fft"]}  # noqa: E731

    # ---------------------------------------------------------------- convolutions
    def depthwise(shape, stride, padding, bias=True):
        def make(rng, dtype):
            x = _normal(rng, shape, dtype)
            w = _normal(rng, (shape[1], 1, 3, 3), dtype)
            b = _normal(rng, shape[1], dtype) if bias else None
            return [x, w, b], dict(stride=stride, padding=padding)
        return make

    def border(args, kwargs, cache):
        t, bt, l, r = cache["padding"]
        x = args[0]
        edge = numpy.zeros(x.shape, bool)
        if t or bt or l or r:
            edge[:, :, :max(t, 1)] = edge[:, :, x.shape[2] - max(bt, 1):] = True
            edge[:, :, :, :max(l, 1)] = edge[:, :, :, x.shape[3] - max(r, 1):] = True
        return {"x": {"the border rows and columns (next to the padding)": edge, "the interior": ~edge}}

    def conv_sizes(args, kwargs):
        x = args[0]
        return {"the batch size N": x.shape[0], "the number of pixels H·W": x.shape[2] * x.shape[3],
                "N·H·W": x.shape[0] * x.shape[2] * x.shape[3]}

    def pointwise(shape, cout, bias=True):
        def make(rng, dtype):
            x = _normal(rng, shape, dtype)
            return [x, _normal(rng, (cout, shape[1], 1, 1), dtype), _normal(rng, cout, dtype) if bias else None], {}
        return make

    # ---------------------------------------------------------------- pooling, normalisation
    def maxpool(shape, size, stride):
        return lambda rng, dtype: ([_normal(rng, shape, dtype)], dict(size=size, stride=stride))

    def winners(args, kwargs, cache):
        dx = ops.maxpool2d_backward(numpy.ones(cache["argmax"].shape), cache)
        return {"x": {"inputs that held a window's maximum": dx != 0, "inputs that held no maximum": dx == 0}}

    def bn(shape):
        def make(rng, dtype):
            c = shape[1]
            return ([_normal(rng, shape, dtype), rng.uniform(0.5, 1.5, c).astype(dtype), _normal(rng, c, dtype),
                     numpy.zeros(c, dtype), numpy.ones(c, dtype)], dict(train=True))
        return make

    def bn_dout(part):
        def dout(rng, out, cache):
            x_hat = cache["x_hat"]
            d = rng.standard_normal(out.shape)
            mean = lambda a: a.mean(axis=(0, 2, 3), keepdims=True)  # noqa: E731
            if part == "mean":           # constant over each channel
                d = numpy.broadcast_to(d[:1, :, :1, :1], out.shape).copy()
            elif part == "var":          # proportional to x̂ in each channel; small, because the true dx is
                d = x_hat * (0.1 * d[:1, :, :1, :1])    # ε-sized here and the finite differences' rounding
                                                        # grows with Σ dout·y: 10× under the threshold
            else:                        # no constant and no x̂ part: only the direct path
                d = d - mean(d)
                d = d - x_hat * mean(d * x_hat) / mean(x_hat * x_hat)
            return d.astype(out.dtype)
        return dout

    bn_sizes = lambda args, kw: {"the batch size N": args[0].shape[0],  # noqa: E731
                                 "M = N·H·W": args[0].shape[0] * args[0].shape[2] * args[0].shape[3]}

    # ---------------------------------------------------------------- capsules
    def squash_args(shape, zeros=False):
        def make(rng, dtype):
            s = _normal(rng, shape, dtype)
            if zeros:
                s[0, 0] = 0.0
                s[0, 1] = 1e-4 * s[0, 1]
            return [s], {}
        return make

    def squash_dout(part):
        def dout(rng, out, cache):
            s = cache["s"]
            d = rng.standard_normal(out.shape)
            along = (d * s).sum(-1, keepdims=True) / (s * s).sum(-1, keepdims=True) * s
            return (along if part == "along" else d - along).astype(out.dtype)
        return dout

    def routing(iterations, agreement, J=3):
        return lambda rng, dtype: ([_normal(rng, (2, 5, J, 4), dtype, 0.5)],
                                   dict(iterations=iterations, agreement=agreement))

    dot_too = ("the exercise asks you to handle dot agreement too: cache['agreement'] says which, and with "
               "dot the steps hold no 'v_norm' or 'cos'.")

    # ---------------------------------------------------------------- margin loss
    def margin(n, low, high):
        def make(rng, dtype):
            lengths = rng.uniform(low, high, size=(n, 4))
            near = (numpy.abs(lengths - 0.1) < 0.01) | (numpy.abs(lengths - 0.9) < 0.01)
            lengths[near] += 0.03           # keep finite differences away from the kinks at m⁻ and m⁺
            return [lengths.astype(dtype), rng.integers(0, 4, size=n)], {}
        return make

    def labelled(args, kwargs, cache):
        T = cache["T"] > 0
        return {"lengths": {"the labelled class (T = 1)": T, "the other classes (T = 0)": ~T}}

    # ---------------------------------------------------------------- known mistakes, as arrays
    def squash_dg(cache):
        n, r = cache["n"], cache["r"]
        return (r - n * (1 + n) / (2 * r)) / ((1 + n) * r) ** 2

    def squash_radial(k):
        return lambda dout, cache: cache["g"] * dout + k * squash_dg(cache) * (cache["s"] * dout).sum(
            axis=-1, keepdims=True) * cache["s"]

    def spec_no_window(dout, cache):
        return ops.power_spectrogram_backward(dout, dict(cache, win=numpy.ones_like(cache["win"])))

    def routing_last_only(dout, cache):
        last = cache["steps"][-1]
        ds = ops.squash_backward(dout, last["sq"])
        return (last["c"][..., None] * ds[:, :, None, :]).transpose(0, 2, 1, 3)

    def maxpool_swapped(dout, cache):
        size, stride, argmax = cache["size"], cache["stride"], cache["argmax"]
        dx = numpy.zeros(cache["x_shape"], dtype=dout.dtype)
        for p in range(size):
            for q in range(size):
                ops.tap(dx, p, q, *dout.shape[2:], stride)[...] += dout * (argmax == q * size + p)
        return dx

    return {
        "power_spectrogram": Exercise(
            "power_spectrogram_backward", ops.power_spectrogram_forward, ops.power_spectrogram_backward,
            ["x"], {"x": ("N", "T")}, [
                Stage("bins 1 … n/2−1 only (no DC, no Nyquist), n_fft = 16", spec_args(16), only_bins("inner"),
                      "the main path is wrong: the derivative of |X|², the inverse transform and its scale, "
                      "the window or the overlap-add."),
                Stage("the DC bin only", spec_args(16), only_bins("dc"),
                      "the ordinary bins are right but the DC bin is not: rfft lists DC once, while every "
                      "ordinary bin stands for itself and its mirror image — how does irfft count each kind?"),
                Stage("the Nyquist bin only (n_fft even)", spec_args(16), only_bins("nyquist"),
                      "DC is right but the Nyquist bin (the last one, n_fft even) is not: it too is listed once."),
                Stage("every bin, odd n_fft = 15 (no Nyquist bin)", spec_args(15),
                      means="with an odd n_fft the last bin is an ordinary bin, not a Nyquist bin: treat it "
                            "specially only when n_fft is even."),
                Stage("one waveform of shape (T,)", spec_args(16, 58, batched=False),
                      means="a single waveform (T,) gives P of shape (K, F): cache['batched'] says which."),
            ], spec_sizes, [
                "Go backwards one step at a time: P from X, X from the windowed frame, the frame from x. "
                "Which of these steps are element-wise and which mix samples?",
                "P = Re(X)² + Im(X)²: treat Re and Im as two real numbers and write dP for each. The adjoint "
                "of rfft is an inverse transform, up to a scale and to how the bins are counted.",
                "irfft treats bins 1 … n/2−1 of its input as two DFT bins each (themselves and their "
                "mirror), DC and, for even n, Nyquist as one. Does the spectrum you hand it weigh every bin "
                "the way the adjoint of rfft needs?",
            ], mistakes=[
                ("no-window", "the frame's window is left out of the backward (the frame was multiplied by it)",
                 spec_no_window),
            ]),
        "depthwise_conv2d": Exercise(
            "depthwise_conv2d_backward", ops.depthwise_conv2d_forward, ops.depthwise_conv2d_backward,
            ["x", "w", "b"], {"x": ("N", "C", "H", "W"), "w": ("C", "1", "kh", "kw"), "b": ("C",)}, [
                Stage("stride 1, no padding", depthwise((3, 3, 5, 6), 1, 0),
                      means="the plain case is wrong: which input pixel does tap (p, q) of output (i, j) meet?",
                      regions=border),
                Stage("stride 1, padding 1", depthwise((3, 3, 5, 6), 1, 1),
                      means="without padding you are right; with it, dx must be cut back to x's rows and "
                            "columns (the gradient of the padded zeros is thrown away) from the right side.",
                      regions=border, target="x"),
                Stage("stride 2, padding 1", depthwise((3, 3, 7, 9), 2, 1),
                      means="stride 1 is right but stride 2 is not: output (i, j) starts at input "
                            "(s·i, s·j) of the padded input.", regions=border, target="x"),
                Stage("uneven padding (top 0, bottom 1, left 2, right 1)", depthwise((3, 3, 5, 6), 1, (0, 1, 2, 1)),
                      means="equal padding is right, uneven is not: cut top, bottom, left and right separately.",
                      regions=border, target="x"),
                Stage("no bias (b = None)", depthwise((3, 3, 5, 6), 1, 1, bias=False),
                      means="without a bias the gradient of b must be None.", target="b"),
            ], conv_sizes, [
                "Write the forward for one output element and ask, for each of x, w and b, which outputs "
                "it touches. Each of the three gradients is a sum over exactly those outputs.",
                "w[c,0,p,q] and b[c] are used at every example and every output position: their gradients "
                "add up over all of them. dx collects, for every tap, dout times that tap's weight.",
                "Do it one tap (p, q) at a time with ops.tap on a zero array the size of the padded input, "
                "then cut the padding away with the four numbers of cache['padding'].",
            ], also_watched=("depthwise_conv2d_reference_backward", "depthwise_strided_backward"), input_means={
                "w": "dw[c, 0, p, q] collects, over every example and output position, dout times the input "
                     "pixel that tap (p, q) met there.",
                "b": "b[c] is added at every example and output position of channel c: db adds dout up over them.",
            }),
        "pointwise_conv2d": Exercise(
            "pointwise_conv2d_backward", ops.pointwise_conv2d_forward, ops.pointwise_conv2d_backward,
            ["x", "w", "b"], {"x": ("N", "Cin", "H", "W"), "w": ("Cout", "Cin", "1", "1"), "b": ("Cout",)}, [
                Stage("one example, one pixel (a plain matrix-vector product)", pointwise((1, 3, 1, 1), 4),
                      means="even a single pixel is wrong: at one pixel y = W·x + b with W of shape (Cout, Cin)."),
                Stage("a batch of 3 at 5×7 pixels", pointwise((3, 3, 5, 7), 4),
                      means="one pixel is right, a batch of images is not: w and b are shared by every example "
                            "and pixel, x is not."),
                Stage("no bias (b = None)", pointwise((3, 3, 5, 7), 4, bias=False),
                      means="without a bias the gradient of b must be None.", target="b"),
            ], conv_sizes, [
                "At one pixel of one example a 1×1 convolution is y = W·x + b. What are dx, dW and db of "
                "that matrix-vector product?",
                "Now every pixel of every example is one more such product with the same W and b: which "
                "gradients add up over them, and which stay per pixel?",
                "Reshape x and dout to (N, C, H·W) so that the pixels form one axis; check the shape of each "
                "product before you reshape it to w.shape — a reshape never fixes an order of axes.",
            ], also_watched=("conv2d_backward", "conv2d_reference_backward"), input_means={
                "w": "w is used at every example and pixel: dw adds up dout times x over all of them, "
                     "as a (Cout, Cin) matrix.",
                "b": "b is added at every example and pixel: db adds dout up over them.",
            }),
        "squash": Exercise(
            "squash_backward", ops.squash_forward, ops.squash_backward,
            ["s"], {"s": ("N", "I", "D")}, [
                Stage("dout across s (perpendicular to each capsule)", squash_args((3, 5, 7)), squash_dout("across"),
                      "a gradient perpendicular to s only rescales: |s| does not change to first order, so "
                      "only the g·dout part acts here, and it is wrong."),
                Stage("dout along s (parallel to each capsule)", squash_args((3, 5, 7)), squash_dout("along"),
                      "across s you are right, along s you are not: the part of the Jacobian that comes from "
                      "|s| changing — g'(n) and the product rule — is wrong or missing."),
                Stage("random dout", squash_args((3, 5, 7)),
                      means="both directions alone are right, together not: do the two parts add?"),
                Stage("capsules at and near s = 0", squash_args((2, 3, 4), zeros=True),
                      means="at or near s = 0 yours is wrong or not finite: keep ε where the forward keeps it "
                            "and do not divide by |s|."),
                Stage("another leading shape (2, 3, 4, 5), D = 5", squash_args((2, 3, 4, 5)),
                      means="squash works along the last axis, whatever comes before it."),
            ], None, [
                "v = g(n)·s with n = |s|²: v depends on s twice, directly and through n. Which rule of "
                "differentiation handles a product of two things that both depend on s?",
                "Find g'(n) first (a quotient, and r = sqrt(n + ε) depends on n too), then dn/ds. The term "
                "through n gives every component of ds a share of Σ_d s_d·dout_d.",
                "Check your formula in the two cases the grader's first stages use: dout perpendicular to "
                "s (s·dout = 0) and dout along s. Which of your terms vanishes in the first case? Both "
                "must act in the second.",
            ], mistakes=[
                ("element-wise", "squash is treated as element-wise (g held constant): only the g·dout part, "
                                 "nothing through |s|", squash_radial(0)),
                ("half-radial", "the term through n = |s|² is exactly half of what it should be (what is dn/ds?)",
                 squash_radial(1)),
            ]),
        "routing": Exercise(
            "routing_backward", ops.routing_forward, ops.routing_backward,
            ["u_hat"], {"u_hat": ("N", "I", "J", "D")}, [
                Stage("R = 1 (one iteration: no agreement yet)", routing(1, "dot"),
                      means="even one iteration is wrong: s = Σ_i c·û with c constant (uniform), then squash. "
                            "Check the layout: you return (N, I, J, D), uT is (N, J, I, D)."),
                Stage("R = 2, dot agreement, one output capsule (J = 1: c = 1 whatever the logits)",
                      routing(2, "dot", J=1),
                      means="with a single output capsule the softmax over j is 1 whatever the logits, so no "
                            "gradient may flow through them — yours does: is your softmax's Jacobian taken over "
                            "j, the output capsules (axis 1 of c), and not over the inputs i?",
                      error_means=dot_too),
                Stage("R = 2, dot agreement", routing(2, "dot"),
                      means="R = 1 is right, R = 2 is not: the gradient must also flow back through the "
                            "first iteration's agreement into the logits, the softmax over j and its v — "
                            "not only through the last iteration.", error_means=dot_too),
                Stage("R = 3, dot agreement", routing(3, "dot"),
                      means="R = 2 is right, R = 3 is not: the gradient of the logits must be carried from "
                            "each iteration to the one before (the logits are a running sum).",
                      error_means=dot_too),
                Stage("R = 2, cosine agreement", routing(2, "cosine"),
                      means="dot agreement is right, cosine is not: differentiate the cosine through both "
                            "norms, |û| and |v|, not only through û·v."),
                Stage("R = 3, cosine agreement", routing(3, "cosine"),
                      means="cosine at R = 2 is right, at R = 3 not: carry the logits' gradient back through "
                            "every iteration for cosine too."),
            ], lambda args, kw: {"the batch size N": args[0].shape[0], "the number of inputs I": args[0].shape[1],
                                 "the number of outputs J": args[0].shape[2]}, [
                "Draw the unrolled graph for R = 2: which arrays does the first iteration produce that the "
                "second one uses? Each of them needs a gradient.",
                "Walk the iterations backwards. In each: squash (ops.squash_backward), the weighted sum "
                "(to c and to û), the softmax (over j, axis 1) to the logits, and, before the last "
                "iteration, the agreement — which adds to dû and to that iteration's dv.",
                "The logits after iteration r are the logits before it plus the agreement, so their "
                "gradient passes unchanged to the iteration before. Cosine = dot / (|û|·|v|): use the "
                "quotient rule, and each norm's derivative points along its own vector.",
            ], mistakes=[
                ("last-only", "the gradient stops at the last iteration: its coupling c treated as a constant, "
                              "nothing flows into the earlier iterations", routing_last_only),
            ], also_watched=("route_backward",)),
        "margin_loss": Exercise(
            "margin_loss_backward", ops.margin_loss_forward, ops.margin_loss_backward,
            ["lengths", "labels"], {"lengths": ("N", "K")}, [
                Stage("one example, every length between m⁻ and m⁺", margin(1, 0.12, 0.88),
                      means="one example is wrong: differentiate each of the two squared hinges.",
                      regions=labelled),
                Stage("a batch of 5", margin(5, 0.12, 0.88),
                      means="one example is right, five are not: the loss is a mean over the batch.",
                      regions=labelled),
                Stage("lengths beyond the margins (the max(0, ·) is 0 there)", margin(6, 0.0, 1.0),
                      means="inside the margins you are right; beyond them a hinge is 0 and so is its "
                            "gradient.", regions=labelled),
            ], lambda args, kw: {"the batch size N": args[0].shape[0], "the number of classes K": args[0].shape[1],
                                 "N·K": args[0].size, "1/λ": 2.0}, [
                "The loss is a sum of independent terms, one per (example, class): each length gets the "
                "derivative of its own term only.",
                "For the labelled class the term is T·max(0, m⁺ − |v|)²; for the others λ·max(0, |v| − m⁻)². "
                "Differentiate a square with the chain rule, and remember which way |v| enters each.",
                "Then account for the 1/N in front, and check a length beyond a margin gets 0.",
            ]),
        "maxpool2d": Exercise(
            "maxpool2d_backward", ops.maxpool2d_forward, ops.maxpool2d_backward,
            ["x"], {"x": ("N", "C", "H", "W")}, [
                Stage("2×2 windows, stride 2, even size", maxpool((2, 3, 6, 8), 2, 2),
                      means="the plain case is wrong: which input does each output's gradient go to?",
                      regions=winners),
                Stage("odd size (floor mode: the last row and column are in no window)", maxpool((2, 3, 7, 9), 2, 2),
                      means="even sizes are right, odd are not: dx has x's shape; the last row and column "
                            "belong to no window and get 0.", regions=winners),
                Stage("3×3 windows, stride 2 (windows overlap)", maxpool((2, 2, 7, 9), 3, 2),
                      means="without overlap you are right; with it an input can be the maximum of two "
                            "windows and must receive both gradients.", regions=winners),
            ], lambda args, kw: {"size²": kw["size"] ** 2, "the batch size N": args[0].shape[0]}, [
                "Max is a switch: the output equals one of its inputs. What is its derivative with "
                "respect to that input, and with respect to the others?",
                "cache['argmax'] holds p·size + q for each output. Decode p and q and use ops.tap on a "
                "zero array of x's shape, one tap at a time.",
                "Add into dx (+=), do not assign: where windows overlap, one input can win several of them.",
            ], mistakes=[
                ("swapped-pq", "the winning tap's index is decoded the wrong way round: p and q swapped "
                               "(argmax = p·size + q)", maxpool_swapped),
            ], also_watched=("maxpool2d_reference_backward",)),
        "batchnorm2d": Exercise(
            "batchnorm2d_backward", ops.batchnorm2d_forward, ops.batchnorm2d_backward,
            ["x", "gamma", "beta", "running_mean", "running_var"],
            {"x": ("N", "C", "H", "W"), "gamma": ("C",), "beta": ("C",)}, [
                Stage("the direct path only (dout has no per-channel constant and no x̂ part)", bn((4, 3, 5, 7)),
                      bn_dout("direct"),
                      "the direct term of dx (x̂ changes because x changes, μ and σ held still) is wrong.",
                      target="x"),
                Stage("dout constant over each channel (dx acts only through μ: the answer is 0)", bn((4, 3, 5, 7)),
                      bn_dout("mean"),
                      "adding the same number to a whole channel of x changes nothing after normalisation, "
                      "so this dx is 0: the term through the mean μ is wrong or missing.", target="x"),
                Stage("dout ∝ x̂ in each channel (dx acts only through σ²: the answer is 0 up to ε)", bn((4, 3, 5, 7)),
                      bn_dout("var"),
                      "scaling a channel of x changes (almost) nothing after normalisation, so this dx is 0 up to ε: the term "
                      "through the variance σ² is wrong or missing.", target="x"),
                Stage("random dout, another shape", bn((3, 2, 4, 3))),
            ], bn_sizes, [
                "dgamma and dbeta are like a bias and a per-channel scale: sums over every axis but C. "
                "For dx, list every way x reaches y.",
                "x reaches y three ways: directly through x̂, through μ, and through σ². Each gives one "
                "term of dx; μ and σ² are means over M = N·H·W values.",
                "Check each term alone: a dout constant over a channel, or proportional to x̂, must give "
                "dx = 0 (the grader's stages 2 and 3 do exactly this).",
            ], also_watched=("batchnorm2d_reference_backward",), input_means={
                "gamma": "γ multiplies x̂ at every (n, h, w) of its channel: dgamma adds up over all of them.",
                "beta": "β is added at every (n, h, w) of its channel: dbeta adds up over all of them.",
            }),
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


# -------------------------------------------------------------------------------- watching for the library
@contextlib.contextmanager
def watching(functions, calls):
    """Count, in ``calls[name]``, every call of the given functions while the block runs.

    Calls are recognised by the function's code object through ``sys.setprofile``, so every route counts:
    ``from lcn_np.ops import f``, ``ops.f``, an alias, a closure. The previous profiler is restored after.
    """
    codes = {f.__code__: library_name(f) for f in functions}

    def profiler(frame, event, arg):
        if event == "call" and frame.f_code in codes:
            name = codes[frame.f_code]
            calls[name] = calls.get(name, 0) + 1

    old = sys.getprofile()
    sys.setprofile(profiler)
    try:
        yield calls
    finally:
        sys.setprofile(old)


def library_name(f):
    """How a watched function is named to the student: ``lcn_np.ops.squash_backward`` for what ``lcn_np.ops``
    exports; ``ops.conv.depthwise_conv2d_reference_backward`` (as reached after ``from lcn_np import ops``)
    for a plain form that it does not export."""
    from . import ops
    if getattr(ops, f.__name__, None) is f:
        return f"lcn_np.ops.{f.__name__}"
    return f"ops.{f.__module__.rsplit('.', 1)[-1]}.{f.__name__}"


def library_function(name):
    """An lcn_np function by name: exported by ``lcn_np.ops``, or found in one of its modules (the
    ``*_reference_backward`` plain forms are not exported, but answer an exercise just as well)."""
    import importlib
    from . import ops
    if hasattr(ops, name):
        return getattr(ops, name)
    for module in ("conv", "pooling", "normalization", "activations", "capsules", "routing", "losses",
                   "spectrogram", "linear"):
        f = getattr(importlib.import_module(f"lcn_np.ops.{module}"), name, None)
        if callable(f):
            return f
    raise LookupError(f"no lcn_np.ops function named {name!r}")


def _call_backward(fn, ex, out, dout, cache, path, calls):
    """Call the student's backward the way the contract says (losses take only the cache); a tuple back."""
    watched = [ex.reference] + [library_function(name) for name in ex.also_watched]
    try:
        with watching(watched, calls), numpy.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")      # a NaN is reported from the arrays, with its stage
            grads = fn(cache) if dout is None else fn(dout.copy(), cache)
    except NotImplementedError:
        raise GradeError(f"{path}: {ex.function} is not written yet — fill in the place marked "
                         f"'YOUR CODE HERE' and remove the `raise NotImplementedError` line.") from None
    except Exception as exc:
        raise GradeError(f"{path}: {ex.function} raised {type(exc).__name__}: {exc}{_student_line(exc, path)}") from None
    return tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)


def _differentiable(ex):
    """(index, name) of every argument that gets a gradient, in the forward's order."""
    return [(ex.names.index(name), name) for name in ex.axes]


# -------------------------------------------------------------------------------- shapes
def shape_problem(name, g, x):
    """A sentence explaining why the gradient ``g`` cannot be the gradient of ``x``, or '' when it can."""
    if g is None or not hasattr(g, "shape"):
        return (f"{name}: your function returned {type(g).__name__} as the gradient of {name}; expected an "
                f"array of shape {tuple(x.shape)}.")
    gs, xs = tuple(g.shape), tuple(x.shape)
    if gs == xs:
        return ""
    msg = (f"{name}: the gradient of {name} has shape {gs} but {name} has shape {xs}: a gradient always has "
           f"the shape of what it is the gradient of.")
    if len(gs) == len(xs) and sorted(gs) == sorted(xs):
        return msg + " Same sizes, other order: your axes are transposed/permuted."
    if 0 in gs:
        return msg + (" An axis of size 0: a slice such as a[t:-b] is empty when b = 0 — write a[t:H - b] "
                      "with the size spelled out.")
    if len(gs) == len(xs) and all(a <= b for a, b in zip(gs, xs)):
        missing = [b - a for a, b in zip(gs, xs)]
        return msg + (f" Yours is smaller by {tuple(missing)}: every element of {name} needs a gradient, "
                      f"0 where it has no effect on the output.")
    if len(gs) == len(xs) and all(a >= b for a, b in zip(gs, xs)):
        extra = [a - b for a, b in zip(gs, xs)]
        return msg + (f" Yours is larger by {tuple(extra)}: a padded shape not cut back — remove the padding "
                      f"(the gradient of the zeros you padded with is thrown away).")
    if len(gs) == len(xs) - 1 and gs in {xs[:k] + xs[k + 1:] for k in range(len(xs))}:
        k = next(k for k in range(len(xs)) if gs == xs[:k] + xs[k + 1:])
        return msg + f" Axis {k} (size {xs[k]}) is missing: you summed over an axis you should keep."
    if numpy.prod(gs) == numpy.prod(xs):
        return msg + " The number of elements is right: an axis order or reshape is wrong."
    return msg


def check_shapes_and_dtypes(fn, ex, path, calls):
    """One gradient per array input, each of its input's shape and dtype (float32 and float64)."""
    for dtype in (numpy.float64, numpy.float32):
        stage = ex.stages[0]
        args, kwargs = stage.make_args(numpy.random.default_rng(7), dtype)
        out, cache = ex.forward(*args, **kwargs)
        dout = _dout(stage, numpy.random.default_rng(3), out, cache)
        grads = _call_backward(fn, ex, out, dout, cache, path, calls)
        expected = len(ex.axes)
        if len(grads) != expected:
            want = ", ".join(f"d{n}" for n in ex.axes)
            raise GradeError(f"{path}: {ex.function} returned {len(grads)} gradient(s); it must return "
                             f"{expected}: ({want}), one per differentiable input, in the forward's order.")
        for (i, name), g in zip(_differentiable(ex), grads):
            x = args[i]
            if x is None:
                continue
            problem = shape_problem(name, g, x)
            if problem:
                raise GradeError(f"{path}: {problem}")
            if g.dtype != x.dtype:
                raise GradeError(f"{path}: with {numpy.dtype(dtype).name} inputs the gradient of {name} is "
                                 f"{g.dtype}; keep the input's dtype (float32 training stays float32).")
            if not numpy.all(numpy.isfinite(g)):
                raise GradeError(f"{path}: the gradient of {name} contains NaN or inf.")


def _dout(stage, rng, out, cache):
    if getattr(out, "ndim", 0) == 0:
        return None
    if stage.dout is not None:
        return stage.dout(rng, out, cache)
    return rng.standard_normal(out.shape).astype(out.dtype)


# -------------------------------------------------------------------------------- comparing two gradients
@dataclass
class Verdict:
    """How one gradient compares with finite differences: the sentences, and tags for tests."""
    name: str
    ok: bool
    lines: list = field(default_factory=list)
    tags: set = field(default_factory=set)


def _fit(a, n):
    """Least-squares k with a ≈ k·n, and the share of |a| that k·n leaves unexplained."""
    nn = float((n * n).sum())
    if nn == 0.0:
        return numpy.nan, 1.0
    k = float((a * n).sum()) / nn
    resid = float(numpy.linalg.norm(a - k * n)) / max(float(numpy.linalg.norm(a)), 1e-300)
    return k, resid


def _factor(k, sizes):
    """(words, tag) for a ratio yours/expected: a sign, a named size, a small whole factor, or any constant."""
    if abs(k + 1) < 1e-4:
        return "exactly the negative of the expected one: a sign flip.", "sign"
    for label, size in (sizes or {}).items():
        if size in (0, 1):
            continue
        for mult, words, tag in ((size, f"{size:g}×", f"factor:{size:g}"), (1 / size, f"1/{size:g} of", f"factor:1/{size:g}"),
                                 (-size, f"−{size:g}×", f"factor:-{size:g}"), (-1 / size, f"−1/{size:g} of", f"factor:-1/{size:g}")):
            if abs(k - mult) < 1e-4 * abs(mult):
                return f"exactly {words} the expected one — {size:g} is {label} here.", tag
    for m in range(2, 65):
        if abs(k - m) < 1e-4 * m:
            return f"exactly {m}× the expected one: a factor {m} too many (a double-counted term?).", f"factor:{m}"
        if abs(k * m - 1) < 1e-4:
            return f"exactly 1/{m} of the expected one: a factor {m} missing (the 2 of a square?).", f"factor:1/{m}"
        if abs(k + m) < 1e-4 * m or abs(k * m + 1) < 1e-4:
            return f"exactly {k:+.4g}× the expected one: a sign flip and a factor.", "sign"
    return f"{k:.4g}× the expected one everywhere: a constant factor is wrong.", "factor:other"


def _rearrangements(n, shape, labels=None):
    """(description, tag, array) for n with its axes permuted (then reshaped to ``shape``) or flipped."""
    out = []
    kept = [i for i, size in enumerate(n.shape) if size != 1]
    squeezed = n.reshape([n.shape[i] for i in kept])
    names = [labels[i] if labels and i < len(labels) else f"axis {i}" for i in kept]
    if 2 <= squeezed.ndim <= 4:
        for perm in itertools.permutations(range(squeezed.ndim)):
            if perm != tuple(range(squeezed.ndim)):
                order = ", ".join(names[p] for p in perm)
                out.append((f"with its axes in the order ({order}) instead of ({', '.join(names)}), then "
                            f"reshaped to {tuple(shape)} — a reshape does not transpose", "transposed",
                            numpy.ascontiguousarray(squeezed.transpose(perm)).reshape(shape)))
    if n.ndim >= 2:
        for axes, words in (((-1,), "the last axis"), ((-2,), "the last axis but one"), ((-2, -1), "the last two axes")):
            if all(n.shape[a] > 1 for a in axes):
                out.append((f"flipped along {words} (a kernel rotated by 180°: convolution instead of "
                            f"cross-correlation?)" if len(axes) == 2 else f"flipped along {words}", "flipped",
                            numpy.flip(n, axes)))
    return out


def _shift_match(a, n, tol):
    """(dy, dx) ≠ 0 such that a equals n shifted by it on the overlap of the last two axes, or None."""
    if a.ndim < 2 or min(a.shape[-2:]) < 4:
        return None
    H, W = a.shape[-2:]
    for dy in range(-2, 3):
        for dx in range(-2, 3):
            if (dy, dx) == (0, 0):
                continue
            aa = a[..., max(dy, 0):H + min(dy, 0), max(dx, 0):W + min(dx, 0)]
            nn = n[..., max(-dy, 0):H + min(-dy, 0), max(-dx, 0):W + min(-dx, 0)]
            if numpy.abs(nn).max() > 0 and numpy.allclose(aa, nn, rtol=tol, atol=tol * numpy.abs(n).max()):
                return dy, dx
    return None


def compare(name, a, n, tol, scale=0.0, axes=None, regions=None, sizes=None):
    """Compare the student's gradient ``a`` with the finite-difference one ``n`` (same shape).

    ``scale``: the typical size of this gradient for a random upstream gradient, so that a stage whose true
    gradient is 0 is judged in absolute terms. Returns a :class:`Verdict`.
    """
    a = numpy.asarray(a, dtype=numpy.float64)
    n = numpy.asarray(n, dtype=numpy.float64)
    v = Verdict(name, True)
    bad = ~numpy.isfinite(a)
    if bad.any():
        where = tuple(int(i) for i in numpy.argwhere(bad)[0])
        v.ok = False
        v.tags.add("nan")
        v.lines.append(f"{name}: {int(bad.sum())} of {a.size} elements are NaN or inf (the first at index "
                       f"{where}): a division by something that is 0 here?")
        return v
    floor = max(1e-3 * float(numpy.abs(n).max(initial=0.0)), 1e-3 * scale, 1e-12)
    err = numpy.abs(a - n) / numpy.maximum(numpy.maximum(numpy.abs(a), numpy.abs(n)), floor)
    wrong = err > tol
    if not wrong.any():
        v.lines.append(f"{name}: ok (worst relative error {float(err.max(initial=0)):.1e})")
        return v
    v.ok = False
    k = int(numpy.argmax(err))
    where = tuple(int(i) for i in numpy.unravel_index(k, err.shape))
    v.lines.append(f"{name}: {wrong.sum()} of {a.size} elements wrong ({wrong.mean():.0%}); worst at index {where}: "
                   f"yours {a.reshape(-1)[k]:+.6e}, expected {n.reshape(-1)[k]:+.6e}.")
    # 0 up to 1e-4 of the usual size (batch normalisation's ε leaves ~1e-5 of the σ² probe)
    expected_zero = float(numpy.abs(n).max(initial=0.0)) <= 1e-4 * max(scale, 1e-12)
    if expected_zero:
        v.tags.add("expected-zero")
        v.lines.append(f"  The expected {name} is 0 everywhere in this stage; yours is not "
                       f"(largest |value| {float(numpy.abs(a).max()):.3g}).")
    elif not a.any():
        v.tags.add("zero")
        v.lines.append(f"  Yours is 0 everywhere: an array created with zeros and never filled, or a gradient "
                       f"that never reaches {name}?")
    else:
        ratio, resid = _fit(a, n)
        if resid < 1e-4:
            words, tag = _factor(ratio, sizes)
            v.tags.add(tag)
            v.lines.append(f"  Yours is {words}")
            return v         # one number explains every element: no need to say where
        v.lines.append(f"  Least-squares fit: yours ≈ {ratio:.4g} × expected, leaving {resid:.0%} of yours "
                       f"unexplained — not a constant factor.")
        scale_n = float(numpy.abs(n).max())
        for words, tag, cand in _rearrangements(n, a.shape, axes):
            if numpy.allclose(a, cand, rtol=1e-6, atol=1e-6 * scale_n):
                v.tags.add(tag)
                v.lines.append(f"  Your {name} holds the right numbers in the wrong places: it equals the "
                               f"expected one {words}.")
                return v
        shift = _shift_match(a, n, 1e-6)
        if shift is not None:
            v.tags.add("shifted")
            v.lines.append(f"  Yours is the expected {name} shifted by {shift} rows and columns: an offset "
                           f"(padding cut from the wrong side? a stride start?) is wrong.")
            return v
    _locate(v, a, n, wrong, axes, regions, sizes)
    return v


def _locate(v, a, n, wrong, axes, regions, sizes):
    """Say where the wrong elements are: per named region (its share and ratio), or a few indices of one axis."""
    share = wrong.mean()
    regions = {name: mask for name, mask in (regions or {}).items() if mask.shape == wrong.shape and mask.any()}
    hit = [name for name, mask in regions.items() if (wrong & mask).any()]
    if len(hit) == 1 and share < 1:
        v.tags.add(f"region:{hit[0]}")
        v.lines.append(f"  Every wrong element is in {hit[0]}; the rest is right{_region_fit(a, n, regions[hit[0]], sizes)}.")
        return
    if len(hit) > 1:
        for name in hit:
            mask = regions[name]
            v.tags.add(f"region:{name}")
            v.lines.append(f"  In {name}: {(wrong & mask).sum() / mask.sum():.0%} wrong{_region_fit(a, n, mask, sizes)}.")
        return
    if share >= 0.5 or wrong.ndim == 0:
        return
    labels = axes or tuple(f"axis {i}" for i in range(wrong.ndim))
    for ax in range(wrong.ndim):
        idx = numpy.unique(numpy.nonzero(wrong)[ax])
        if len(idx) <= 3 and len(idx) < wrong.shape[ax] and wrong.shape[ax] > 2:
            label = labels[ax] if ax < len(labels) else f"axis {ax}"
            v.tags.add(f"axis:{label}")
            v.lines.append(f"  The wrong elements all lie at {label} = {', '.join(str(int(i)) for i in idx)} "
                           f"(of 0 … {wrong.shape[ax] - 1}).")


def _region_fit(a, n, mask, sizes):
    """' — there the expected gradient is 0 …' or ' — there yours is exactly …', or ''."""
    if numpy.abs(n[mask]).max() <= 1e-7 * max(numpy.abs(n).max(), 1e-300):
        return " — there the expected gradient is 0 and yours is not"
    ratio, resid = _fit(a[mask], n[mask])
    if resid < 1e-4 and numpy.isfinite(ratio) and abs(ratio - 1) > 1e-4:
        return " — there yours is " + _factor(ratio, sizes)[0].rstrip(".")
    return ""


# -------------------------------------------------------------------------------- stages
@dataclass
class StageResult:
    stage: Stage
    verdicts: list
    error: str = ""
    mistake: tuple = None     # (tag, sentence) of a known mistake the answer matches exactly

    @property
    def ok(self):
        return not self.error and all(v.ok for v in self.verdicts)


def _copies(args):
    return [a.copy() if hasattr(a, "copy") else a for a in args]


def run_stage(fn, ex, stage, path, tol, calls, seed):
    """Grade one stage in float64: the student's gradients against finite differences, one input at a time.

    The student's function gets a cache of its own (from copies of the inputs), so that nothing it changes
    in place can move the point at which the finite differences and lcn_np's reference are taken.
    """
    rng = numpy.random.default_rng(seed)
    args, kwargs = stage.make_args(rng, numpy.float64)
    out, cache = ex.forward(*_copies(args), **kwargs)
    _, ref_cache = ex.forward(*_copies(args), **kwargs)
    dout = _dout(stage, rng, out, cache)
    try:
        grads = _call_backward(fn, ex, out, dout, cache, path, calls)
    except GradeError as exc:
        return StageResult(stage, [], str(exc).replace(f"{path}: ", "", 1))
    differentiable = _differentiable(ex)
    if len(grads) != len(differentiable):
        return StageResult(stage, [], f"returned {len(grads)} gradient(s) instead of {len(differentiable)}")
    # the scale of each gradient for a random upstream gradient (lcn_np's own backward, gradient-checked in
    # tests/): a stage whose true gradient is 0 is judged against it
    rand = None if dout is None else numpy.random.default_rng(5).standard_normal(out.shape)
    ref = ex.reference(ref_cache) if rand is None else ex.reference(rand, ref_cache)
    ref = ref if isinstance(ref, tuple) else (ref,)
    regions = stage.regions(args, kwargs, ref_cache) if stage.regions else {}
    sizes = ex.sizes(args, kwargs) if ex.sizes else {}
    verdicts = []
    for (i, name), g, r in zip(differentiable, grads, ref):
        x = args[i]
        if x is None:
            if g is not None:
                verdicts.append(Verdict(name, False, [f"d{name}: {name} is None here, so its gradient must be "
                                                      f"None; yours is {type(g).__name__}."], {"not-none"}))
            continue
        problem = shape_problem(name, g, x)
        if problem:
            verdicts.append(Verdict(name, False, [problem], {"shape"}))
            continue

        def f():
            return ex.forward(*args, **kwargs)[0]

        num = numerical_gradient(f, x, None if dout is None else dout.astype(numpy.float64))
        verdict = compare(f"d{name}", g, num, tol, float(numpy.abs(r).max(initial=0.0)),
                          ex.axes.get(name), regions.get(name), sizes)
        verdict.name = name
        verdicts.append(verdict)
    result = StageResult(stage, verdicts)
    if not result.ok:
        result.mistake = _known_mistake(ex, grads, dout, ref_cache)
    return result


def _known_mistake(ex, grads, dout, cache):
    """(tag, sentence) of the first of the exercise's known mistakes whose gradients equal the student's."""
    for tag, sentence, mistaken in ex.mistakes:
        want = mistaken(cache) if dout is None else mistaken(dout.astype(numpy.float64), cache)
        want = want if isinstance(want, tuple) else (want,)
        if all((g is None and w is None) or (g is not None and w is not None and hasattr(g, "shape")
               and g.shape == w.shape and numpy.allclose(g, w, rtol=1e-6, atol=1e-9 * float(numpy.abs(w).max(initial=1))))
               for g, w in zip(grads, want)):
            return tag, sentence
    return None


def _means(ex, result):
    """What the first failing stage points to: the stage's sentence, or, when the input it is about is right
    and only other inputs fail, what those inputs' gradients failing points to."""
    failing = [v.name for v in result.verdicts if not v.ok]
    if failing and all(name in ex.input_means for name in failing) and \
            (result.stage.target is None or result.stage.target not in failing):
        return " ".join(f"d{name} is wrong: {ex.input_means[name]}" for name in failing)
    return result.stage.means


def _hint_text(ex, hint):
    tiers = ex.hints
    if hint <= 0:
        return (f"Stuck? Run again with --hint 1 for a first hint ({len(tiers)} tiers, each a step closer; "
                f"none gives the answer).")
    shown = [f"Hint {i + 1}/{len(tiers)}: {h}" for i, h in enumerate(tiers[:hint])]
    if hint < len(tiers):
        shown.append(f"(--hint {hint + 1} gives the next one.)")
    return "\n".join(shown)


def grade(path, tol=1e-5, hint=0):
    """Grade one exercise file; returns ``(passed, text)``."""
    calls = {}
    try:
        module = load_student_module(path)
        name, ex, fn = find_exercise(module, path)
        check_shapes_and_dtypes(fn, ex, path, calls)
    except GradeError as exc:
        return False, f"NOT YET: {exc}"
    results = [run_stage(fn, ex, stage, path, tol, calls, seed=11 + k) for k, stage in enumerate(ex.stages)]
    lines = [f"exercise {name}: number, shapes and dtypes of the gradients ok", f"graded in {len(results)} stages "
             f"(float64, finite differences, tolerance {tol:.0e}):"]
    first = next((res for res in results if not res.ok), None)
    for k, res in enumerate(results, 1):
        lines.append(f"stage {k}/{len(results)}  {res.stage.name}: {'ok' if res.ok else 'FAIL'}")
        if res.error:
            lines.append(f"  your function {res.error}")
        for v in res.verdicts:
            if not v.ok:     # every sentence for the first failing stage, its first for the later ones
                lines += ["  " + line for line in (v.lines if res is first else v.lines[:1])]
        if res.mistake and res is first:
            lines.append(f"  Your answer is exactly what you get when {res.mistake[1]}.")
    passed = first is None
    if first is not None:
        k = results.index(first)
        before = "" if k == 0 else " (stage 1 before it is ok)" if k == 1 else f" (stages 1–{k} before it are ok)"
        means = (first.stage.error_means or first.stage.means) if first.error else _means(ex, first)
        lines.append("")
        lines.append(f"Diagnosis: the first stage that fails is \"{first.stage.name}\"{before}: {means}")
    watched = ", ".join(f"{f} ({c} call{'s' if c > 1 else ''})" for f, c in sorted(calls.items()))
    if watched:
        passed = False
        lines.append("")
        lines.append(f"Note: while it ran, your {ex.function} called {watched} — lcn_np's own answer to this "
                     f"exercise. The stages above graded what that call returned, not your derivation: write "
                     f"the gradient yourself (other lcn_np functions, such as helpers the skeleton imports, "
                     f"are fine).")
    if passed:
        lines.append("")
        lines.append("Well done: every stage matches finite differences.")
    elif first is not None:
        lines.append("")
        lines.append(_hint_text(ex, hint))
    return passed, "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m lcn_np.grade", description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+", help="exercise files to grade")
    parser.add_argument("--tol", type=float, default=1e-5, help="largest accepted relative error (default 1e-5)")
    parser.add_argument("--hint", type=int, default=0, metavar="N",
                        help="show hint tiers 1 … N when a file fails (each a step closer; none gives the answer)")
    args = parser.parse_args(argv)
    all_ok = True
    for path in args.files:
        ok, text = grade(path, tol=args.tol, hint=args.hint)
        print(f"== {path}\n{text}\n")
        all_ok &= ok
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
