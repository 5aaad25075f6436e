"""Wrong: writes the gradient with fancy-index assignment — where windows overlap, one write wins."""
import numpy as np


def maxpool2d_backward(dout, cache):
    argmax, size, stride = cache["argmax"], cache["size"], cache["stride"]
    N, C, H, W = cache["x_shape"]
    Ho, Wo = dout.shape[2:]
    rows = stride * np.arange(Ho)[:, None] + argmax // size
    cols = stride * np.arange(Wo)[None, :] + argmax % size
    n = np.arange(N)[:, None, None, None]
    c = np.arange(C)[None, :, None, None]
    dx = np.zeros((N, C, H, W), dtype=dout.dtype)
    dx[n, c, rows, cols] = dout
    return dx
