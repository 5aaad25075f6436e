"""Pooling: max-pooling (floor mode) and global average pooling.

Max-pool: y[n,c,i,j] = max_{p,q < size} x[n,c,s·i+p, s·j+q];  the gradient goes to the one position
that held the maximum (the first in row-major order on ties).
Global average pool: y[n,c] = mean_{h,w} x[n,c,h,w];  dx = dy / (H·W) at every pixel.
"""

from ..backend import array_module
from .checks import expect_ndim
from .conv import output_size, tap, windows


def maxpool2d_forward(x, size=2, stride=2):
    """x: (N, C, H, W) → y: (N, C, (H−size)//stride + 1, (W−size)//stride + 1)."""
    expect_ndim("x", x, 4, "(N, C, H, W)")
    N, C, H, W = x.shape
    if H < size or W < size:
        raise ValueError(f"x: the input ({H}×{W}) is smaller than the pooling window ({size}×{size})")
    Ho, Wo = output_size(H, W, size, size, stride, (0, 0, 0, 0))
    win = windows(x, size, size, Ho, Wo, stride)                     # (N, C, size, size, Ho, Wo) view
    flat = win.reshape(N, C, size * size, Ho, Wo)                    # copy, taps on axis 2
    argmax = flat.argmax(axis=2)                                     # first max on ties
    xp = array_module(x)
    out = xp.take_along_axis(flat, argmax[:, :, None], axis=2)[:, :, 0]
    return out, {"argmax": argmax, "x_shape": x.shape, "size": size, "stride": stride, "dtype": x.dtype}


def maxpool2d_backward(dout, cache):
    xp = array_module(dout)
    size, stride, argmax = cache["size"], cache["stride"], cache["argmax"]
    Ho, Wo = dout.shape[2:]
    dx = xp.zeros(cache["x_shape"], dtype=dout.dtype)
    for p in range(size):
        for q in range(size):
            tap(dx, p, q, Ho, Wo, stride)[...] += dout * (argmax == p * size + q)
    return dx


def global_avgpool_forward(x):
    """x: (N, C, H, W) → y: (N, C), the mean over every pixel."""
    expect_ndim("x", x, 4, "(N, C, H, W)")
    return x.mean(axis=(2, 3)), {"x_shape": x.shape}


def global_avgpool_backward(dout, cache):
    xp = array_module(dout)
    N, C, H, W = cache["x_shape"]
    return xp.broadcast_to(dout[:, :, None, None] / (H * W), (N, C, H, W)).copy()
