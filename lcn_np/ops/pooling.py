"""Pooling: max-pooling (floor mode) and global average pooling.

Max-pool: y[n,c,i,j] = max_{p,q < size} x[n,c,s·i+p, s·j+q];  the gradient goes to the one position
that held the maximum (the first in row-major order on ties).
Global average pool: y[n,c] = mean_{h,w} x[n,c,h,w];  dx = dy / (H·W) at every pixel.

Speed: the 2×2 stride-2 forward halves the columns, then the rows (:func:`_maxpool_2x2`); other
sizes walk the size² taps (strided views, no copy of the windows), keeping a running maximum and the
index of the tap that holds it; when windows do not overlap (stride ≥ size, as in
every network here) the backward writes each tap's share straight into its own disjoint view of dx.
Both run on chunks of the batch on the thread pool of :mod:`lcn_np.parallel`.
:func:`maxpool2d_reference` is the plain form — argmax over a copied window axis — and the tests
check both agree exactly.
"""

from ..backend import array_module
from ..parallel import for_chunks
from .checks import expect_ndim
from .conv import output_size, tap, windows


def _check(x, size, stride):
    expect_ndim("x", x, 4, "(N, C, H, W)")
    N, C, H, W = x.shape
    if H < size or W < size:
        raise ValueError(f"x: the input ({H}×{W}) is smaller than the pooling window ({size}×{size})")
    return output_size(H, W, size, size, stride, (0, 0, 0, 0))


def maxpool2d_forward(x, size=2, stride=2):
    """x: (N, C, H, W) → y: (N, C, (H−size)//stride + 1, (W−size)//stride + 1).

    cache["argmax"]: (N, C, Ho, Wo), the index p·size + q of the winning tap of every output."""
    Ho, Wo = _check(x, size, stride)
    xp = array_module(x)
    N, C = x.shape[:2]
    out = xp.empty((N, C, Ho, Wo), dtype=x.dtype)
    argmax = xp.empty((N, C, Ho, Wo), dtype=xp.int8 if size * size < 128 else xp.int64)

    def part(lo, hi):
        xc, o, a = x[lo:hi], out[lo:hi], argmax[lo:hi]
        if size == stride == 2:
            _maxpool_2x2(xc, o, a)
            return
        o[...] = tap(xc, 0, 0, Ho, Wo, stride)
        a[...] = 0
        better = xp.empty(o.shape, dtype=bool)
        for k in range(1, size * size):
            t = tap(xc, k // size, k % size, Ho, Wo, stride)
            xp.greater(t, o, out=better)                 # strictly: the first maximum keeps its place
            xp.copyto(a, k, where=better)
            xp.maximum(o, t, out=o)
    for_chunks(N, part, xp, work=x.size)
    return out, {"argmax": argmax, "x_shape": x.shape, "size": size, "stride": stride, "dtype": x.dtype}


def _maxpool_2x2(x, out, argmax):
    """The 2×2 stride-2 pool (every pool of the networks here) in two halving steps, the first one over
    column pairs, the second over row pairs of the result:

        m[n,c,h,j] = max(x[n,c,h,2j], x[n,c,h,2j+1])       q[h,j] = 1 where the right one is strictly larger
        y[n,c,i,j] = max(m[n,c,2i,j], m[n,c,2i+1,j])       p[i,j] = 1 where the lower one is strictly larger
        argmax = 2·p + q of the row p chose

    — six passes over shrinking arrays instead of four full passes of three operations each; the same
    winner as the tap walk (first maximum in row-major order), which the tests check exactly."""
    xp = array_module(x)
    Ho, Wo = out.shape[2:]
    pairs = x[:, :, :2 * Ho, :2 * Wo]
    left, right = pairs[..., 0::2], pairs[..., 1::2]                 # (n, C, 2Ho, Wo)
    q = xp.greater(right, left)
    m = xp.maximum(left, right)
    top, bottom = m[:, :, 0::2], m[:, :, 1::2]                      # (n, C, Ho, Wo)
    p = xp.greater(bottom, top)
    xp.maximum(top, bottom, out=out)
    argmax[...] = xp.where(p, q[:, :, 1::2], q[:, :, 0::2])          # q of the winning row
    argmax += 2 * p.astype(argmax.dtype)


def maxpool2d_backward(dout, cache):
    size, stride, argmax = cache["size"], cache["stride"], cache["argmax"]
    if stride < size:                                    # overlapping windows: gradients add up
        return maxpool2d_reference_backward(dout, cache)
    xp = array_module(dout)
    N, C, H, W = cache["x_shape"]
    Ho, Wo = dout.shape[2:]
    covered = stride == size and H == Ho * size and W == Wo * size
    dx = (xp.empty if covered else xp.zeros)(cache["x_shape"], dtype=dout.dtype)

    def part(lo, hi):
        d, a, dxc = dout[lo:hi], argmax[lo:hi], dx[lo:hi]
        for k in range(size * size):                     # disjoint views: plain writes, no scatter-add
            xp.multiply(d, a == k, out=tap(dxc, k // size, k % size, Ho, Wo, stride))
    for_chunks(N, part, xp, work=dx.size)
    return dx


def maxpool2d_reference(x, size=2, stride=2):
    """The plain form of :func:`maxpool2d_forward`: copy the windows to a tap axis, take its argmax."""
    Ho, Wo = _check(x, size, stride)
    N, C = x.shape[:2]
    xp = array_module(x)
    flat = windows(x, size, size, Ho, Wo, stride).reshape(N, C, size * size, Ho, Wo)   # copy, taps on axis 2
    argmax = flat.argmax(axis=2)                                     # first max on ties
    out = xp.take_along_axis(flat, argmax[:, :, None], axis=2)[:, :, 0]
    return out, {"argmax": argmax, "x_shape": x.shape, "size": size, "stride": stride, "dtype": x.dtype}


def maxpool2d_reference_backward(dout, cache):
    """dx: each output's gradient added at its winning tap (works for overlapping windows too)."""
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
