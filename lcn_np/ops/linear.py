"""Fully connected layer (for the CNN baseline).

    y = x wᵀ + b              x: (N, Din)   w: (Dout, Din)   b: (Dout,) or None   →   y: (N, Dout)
    dx = dy w,   dw = dyᵀ x,   db = Σ_n dy
"""

from .checks import expect_ndim, expect_shape


def linear_forward(x, w, b=None):
    expect_ndim("x", x, 2, "(N, Din)")
    expect_ndim("w", w, 2, "(Dout, Din)")
    expect_shape("w", w, (None, x.shape[1]))
    if b is not None:
        expect_shape("b", b, (w.shape[0],))
    out = x @ w.T
    if b is not None:
        out = out + b
    return out, {"x": x, "w": w, "has_bias": b is not None}


def linear_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    db = dout.sum(axis=0) if cache["has_bias"] else None
    return dout @ w, dout.T @ x, db
