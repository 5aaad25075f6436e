"""Wrong: always returns db, even when the forward had no bias."""
import numpy as np


def pointwise_conv2d_backward(dout, cache):
    x, w = cache["x"], cache["w"]
    W = w[:, :, 0, 0]
    dx = np.einsum("oc,nohw->nchw", W, dout)
    dw = np.einsum("nohw,nchw->oc", dout, x)[:, :, None, None]
    return dx, dw, dout.sum(axis=(0, 2, 3))
