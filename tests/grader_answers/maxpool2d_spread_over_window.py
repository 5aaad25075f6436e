"""Wrong: spreads each output's gradient evenly over its window (the backward of average pooling)."""
import numpy as np

from lcn_np.ops import tap


def maxpool2d_backward(dout, cache):
    size, stride = cache["size"], cache["stride"]
    dx = np.zeros(cache["x_shape"], dtype=dout.dtype)
    Ho, Wo = dout.shape[2:]
    for p in range(size):
        for q in range(size):
            tap(dx, p, q, Ho, Wo, stride)[...] += dout / size ** 2
    return dx
