"""Wrong: computes dw as x·doutᵀ, a (Cin, Cout) matrix, and reshapes it to w's shape."""
import numpy as np


def pointwise_conv2d_backward(dout, cache):
    x, w, has_bias = cache["x"], cache["w"], cache["has_bias"]
    N, Cin, H, W = x.shape
    Cout = w.shape[0]
    x2 = x.transpose(1, 0, 2, 3).reshape(Cin, -1)        # (Cin, N·H·W)
    d2 = dout.transpose(1, 0, 2, 3).reshape(Cout, -1)    # (Cout, N·H·W)
    dx = (w.reshape(Cout, Cin).T @ d2).reshape(Cin, N, H, W).transpose(1, 0, 2, 3)
    dw = (x2 @ d2.T).reshape(w.shape)
    db = d2.sum(axis=1) if has_bias else None
    return dx, dw, db
