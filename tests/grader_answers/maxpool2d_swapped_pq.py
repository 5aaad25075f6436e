"""Wrong: decodes the winning tap as q·size + p (row and column swapped)."""
import numpy as np

from lcn_np.ops import tap


def maxpool2d_backward(dout, cache):
    argmax, size, stride = cache["argmax"], cache["size"], cache["stride"]
    dx = np.zeros(cache["x_shape"], dtype=dout.dtype)
    Ho, Wo = dout.shape[2:]
    for k in range(size * size):
        q, p = divmod(k, size)
        tap(dx, p, q, Ho, Wo, stride)[...] += np.where(argmax == k, dout, 0)
    return dx
