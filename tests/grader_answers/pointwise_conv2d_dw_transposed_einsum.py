"""Wrong, the same way as pointwise_conv2d_dw_transposed.py but written differently: dw as (Cin, Cout), reshaped."""
import numpy as np


def pointwise_conv2d_backward(dout, cache):
    x, w, has_bias = cache["x"], cache["w"], cache["has_bias"]
    dx = np.einsum("oc,nohw->nchw", w[:, :, 0, 0], dout)
    dw = np.einsum("nchw,nohw->co", x, dout).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if has_bias else None
    return dx, dw, db
