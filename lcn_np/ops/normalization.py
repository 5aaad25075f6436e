"""Batch normalisation over (N, H, W) for each channel, with PyTorch's semantics.

Training:  μ = mean_{n,h,w} x,  σ² = mean (x − μ)²  (biased),  x̂ = (x − μ)/sqrt(σ² + ε),  y = γ x̂ + β;
           running_mean ← (1−m)·running_mean + m·μ,  running_var ← (1−m)·running_var + m·σ²·M/(M−1)
           (unbiased, M = N·H·W), updated in place.
Eval:      x̂ = (x − running_mean)/sqrt(running_var + ε).

Backward (training), with M = N·H·W and sums over (n, h, w):
    dγ = Σ dy·x̂,   dβ = Σ dy,   dx = γ/(M·sqrt(σ²+ε)) · (M·dy − Σ dy − x̂·Σ dy·x̂)
In eval mode μ and σ² are constants, so dx = γ·dy/sqrt(running_var + ε).

Speed: both passes run on chunks of the batch on the thread pool of :mod:`lcn_np.parallel`. The
statistics come from per-chunk means and centred sums of squares, merged exactly (Chan et al.):

    M2 = Σ_k [ M2_k + M_k·(μ_k − μ)² ],   σ² = M2 / M

— a chunk is read for its sum, centred and squared one cache-sized block of channels at a time
(:func:`lcn_np.parallel.cache_blocks`), so the whole batch is never traversed twice from memory for the
mean and the variance; the normalisation and the backward work block by block too. :func:`batchnorm2d_reference` is the plain
``x.mean`` / ``x.var`` form, and the tests check both agree.
"""

from ..backend import array_module
from ..parallel import cache_blocks, for_chunks, map_chunks, sum_in_order
from .checks import expect_ndim, expect_shape

AXES = (0, 2, 3)


def _check(x, gamma, beta, running_mean, running_var, train):
    expect_ndim("x", x, 4, "(N, C, H, W)")
    C = x.shape[1]
    for name, a in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean), ("running_var", running_var)):
        expect_shape(name, a, (C,))
    M = x.shape[0] * x.shape[2] * x.shape[3]
    if train and M < 2:
        raise ValueError(f"x: batch normalisation in training mode needs more than one value per channel, "
                         f"got shape {x.shape}")
    return M


def _update_running(running_mean, running_var, mean, var, momentum, M):
    running_mean *= 1 - momentum
    running_mean += momentum * mean
    running_var *= 1 - momentum
    running_var += momentum * var * (M / (M - 1))


def batchnorm2d_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """x: (N, C, H, W); gamma, beta, running_mean, running_var: (C,) → y: (N, C, H, W)."""
    M = _check(x, gamma, beta, running_mean, running_var, train)
    xp = array_module(x)
    N = x.shape[0]
    C, HW = x.shape[1], x.shape[2] * x.shape[3]
    if train:
        def stats(lo, hi):                     # chunk means and centred sums of squares, block by block
            xc = x[lo:hi]
            mean_k, m2_k = xp.empty(C, dtype=x.dtype), xp.empty(C, dtype=x.dtype)
            for cs in cache_blocks(C, (hi - lo) * HW):
                mean_k[cs] = xc[:, cs].mean(axis=AXES)
                d = xc[:, cs] - mean_k[cs, None, None]
                m2_k[cs] = xp.einsum("nchw,nchw->c", d, d)
            return mean_k, m2_k, (hi - lo) * HW
        parts = for_chunks(N, stats, xp, work=x.size)
        mean = sum_in_order([m * (n / M) for m, _, n in parts])
        M2 = sum_in_order([m2 + n * (m - mean) ** 2 for m, m2, n in parts])
        var = M2 / M
        _update_running(running_mean, running_var, mean, var, momentum, M)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / (var + eps) ** 0.5
    x_hat = xp.empty_like(x)
    out = xp.empty_like(x)

    def normalise(lo, hi):
        for cs in cache_blocks(C, (hi - lo) * HW):
            xh, o = x_hat[lo:hi, cs], out[lo:hi, cs]
            xp.subtract(x[lo:hi, cs], mean[cs, None, None], out=xh)
            xh *= inv_std[cs, None, None]
            xp.multiply(xh, gamma[cs, None, None], out=o)
            o += beta[cs, None, None]
    for_chunks(N, normalise, xp, work=x.size)
    return out, {"x_hat": x_hat, "gamma": gamma, "inv_std": inv_std, "train": train}


def batchnorm2d_backward(dout, cache):
    xp = array_module(dout)
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    N, C, H, W = dout.shape
    M = N * H * W

    def sums(lo, hi):                          # Σ dy and Σ dy·x̂ over a chunk, block by block
        s1, s2 = xp.empty(C, dtype=dout.dtype), xp.empty(C, dtype=dout.dtype)
        for cs in cache_blocks(C, (hi - lo) * H * W):
            s1[cs] = dout[lo:hi, cs].sum(axis=AXES)
            s2[cs] = xp.einsum("nchw,nchw->c", dout[lo:hi, cs], x_hat[lo:hi, cs])
        return s1, s2
    parts = for_chunks(N, sums, xp, work=dout.size)
    dbeta = sum_in_order([p[0] for p in parts])
    dgamma = sum_in_order([p[1] for p in parts])
    scale = (gamma * inv_std)[:, None, None]
    dx = xp.empty_like(dout)
    if not cache["train"]:
        map_chunks(lambda d, o: xp.multiply(d, scale, out=o), dout, dx)
        return dx, dgamma, dbeta
    # dx = γ·inv_std · (dy − dβ/M − x̂·dγ/M): four passes over a block while it is in cache
    a, c = (dgamma / M)[:, None, None], (dbeta / M)[:, None, None]

    def grad(lo, hi):
        for cs in cache_blocks(C, (hi - lo) * H * W):
            d = dx[lo:hi, cs]
            xp.multiply(x_hat[lo:hi, cs], a[cs], out=d)
            xp.subtract(dout[lo:hi, cs], d, out=d)
            d -= c[cs]
            d *= scale[cs]
    for_chunks(N, grad, xp, work=dout.size)
    return dx, dgamma, dbeta


def batchnorm2d_reference(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """The plain form of :func:`batchnorm2d_forward`, whole-batch ``mean`` and ``var``: same results to
    float32 round-off (the tests check it), same cache."""
    M = _check(x, gamma, beta, running_mean, running_var, train)
    if train:
        mean, var = x.mean(axis=AXES), x.var(axis=AXES)
        _update_running(running_mean, running_var, mean, var, momentum, M)
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / (var + eps) ** 0.5
    x_hat = (x - mean[:, None, None]) * inv_std[:, None, None]
    out = gamma[:, None, None] * x_hat + beta[:, None, None]
    return out.astype(x.dtype, copy=False), {"x_hat": x_hat, "gamma": gamma, "inv_std": inv_std, "train": train}


def batchnorm2d_reference_backward(dout, cache):
    """The backward formula of the module docstring, written out on the whole batch."""
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    dbeta = dout.sum(axis=AXES)
    dgamma = (dout * x_hat).sum(axis=AXES)
    if not cache["train"]:
        return dout * (gamma * inv_std)[:, None, None], dgamma, dbeta
    M = dout.shape[0] * dout.shape[2] * dout.shape[3]
    dx = (gamma * inv_std / M)[:, None, None] * (M * dout - dbeta[:, None, None] - x_hat * dgamma[:, None, None])
    return dx, dgamma, dbeta
