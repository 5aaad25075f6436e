"""Capsules: vectors whose length is a probability and whose direction describes what was found.

squash (Sabour et al. 2017, eq. 1), along the last axis, with ε inside the square root so that it is
finite — value and gradient — at s = 0::

    n = |s|²,   r = sqrt(n + ε),   g(n) = n / ((1 + n) · r),   v = g(n) · s

Its Jacobian is not diagonal (every component of v depends on |s|)::

    dv/ds = g·I + 2·g'(n)·s sᵀ,     g'(n) = (n + 2ε − n²) / (2 r³ (1 + n)²)

so for an upstream gradient dv:  ds = g·dv + 2·g'(n)·(s·dv)·s.  At s = 0, g' = 1/sqrt(ε) is large but
finite and multiplies s = 0.

Capsule predictions (eq. 2): û[n,i,j] = w[i,j] @ u[n,i], one matrix per (input i, output j) pair
(Sabour et al. write W_ij; it is a weight like every other, so it is ``w`` here).
Capsule length: ‖v‖ = sqrt(Σ v² + ε), the class score.
"""

from ..backend import array_module
from .checks import expect_ndim, expect_shape

EPS = 1e-7


def dot_last(a, b):
    """Σ_d a[..., d] · b[..., d], kept as a length-1 last axis: (..., D), (..., D) → (..., 1).

    The same sum as ``(a * b).sum(axis=-1, keepdims=True)``, in one pass and without the product array:
    a reduction over a short last axis (D = 8 or 16) is NumPy's slowest kind, einsum's loop is not."""
    return array_module(a).einsum("...d,...d->...", a, b)[..., None]


def squash_forward(s):
    """s: (..., D) → v: (..., D), |v| = |s|²/(1+|s|²) ∈ [0, 1)."""
    n = dot_last(s, s)
    r = (n + EPS) ** 0.5
    g = n / ((1 + n) * r)
    return g * s, {"s": s, "n": n, "r": r, "g": g}


def squash_backward(dout, cache):
    s, n, r, g = cache["s"], cache["n"], cache["r"], cache["g"]
    dg = (n + 2 * EPS - n * n) / (2 * r ** 3 * (1 + n) ** 2)
    ds = g * dout
    ds += (2 * dg * dot_last(s, dout)) * s
    return ds


def capsule_predict_forward(u, w):
    """Predictions of every input capsule for every output capsule.

        û[n,i,j,:] = w[i,j] @ u[n,i,:]

    u: (N, I, Din)   w: (I, J, Dout, Din)   →   u_hat: (N, I, J, Dout)
    Backward: du[n,i] = Σ_j w[i,j]ᵀ dû[n,i,j];   dw[i,j] = Σ_n dû[n,i,j] u[n,i]ᵀ.
    Computed as I batched matrix products (I is the batch axis of matmul).
    """
    expect_ndim("u", u, 3, "(N, I, Din)")
    expect_ndim("w", w, 4, "(I, J, Dout, Din)")
    expect_shape("w", w, (u.shape[1], None, None, u.shape[2]))
    N, I, Din = u.shape
    _, J, Dout, _ = w.shape
    u_cols = u.transpose(1, 2, 0)                               # (I, Din, N): one column per example
    out = w.reshape(I, J * Dout, Din) @ u_cols                  # (I, J·Dout, N)
    u_hat = out.reshape(I, J, Dout, N).transpose(3, 0, 1, 2)    # (N, I, J, Dout)
    return u_hat, {"u": u, "w": w}


def capsule_predict_backward(dout, cache):
    xp = array_module(dout)
    u, w = cache["u"], cache["w"]
    N, I, Din = u.shape
    _, J, Dout, _ = w.shape
    d = xp.ascontiguousarray(dout.transpose(1, 2, 3, 0)).reshape(I, J * Dout, N)   # (I, J·Dout, N)
    dw = (d @ u.transpose(1, 0, 2)).reshape(w.shape)                                # (I, J·Dout, Din)
    du = (w.reshape(I, J * Dout, Din).transpose(0, 2, 1) @ d).transpose(2, 0, 1)    # (N, I, Din)
    return du, dw


def capsule_length_forward(v):
    """v: (N, J, D) → lengths (N, J) = sqrt(Σ_d v² + ε).   Backward: dv = dlen · v / length."""
    expect_ndim("v", v, 3, "(N, J, D)")
    length = (dot_last(v, v)[..., 0] + EPS) ** 0.5
    return length, {"v": v, "length": length}


def capsule_length_backward(dout, cache):
    return (dout / cache["length"])[..., None] * cache["v"]
