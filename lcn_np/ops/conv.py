"""Convolutions: standard, depthwise and pointwise (1×1) — the building blocks of a DSC block.

All three are cross-correlations in PyTorch's layout, with zero padding::

    x: (N, C, H, W)      padding p: an int (all sides) or (top, bottom, left, right)
    Ho = (H + top + bottom − kh) // s + 1,    Wo likewise

A depthwise-separable convolution (DSC) = depthwise k×k (one filter per channel) followed by a
pointwise 1×1 (mixes channels). For Cin → Cout with k×k kernels it has Cin·k² + Cin·Cout weights
instead of Cin·Cout·k² — for 64 → 128 with 3×3: 8 768 instead of 73 728.

Speed: the standard convolution is one matrix product over a strided view of the input (im2col
without a Python loop); the depthwise convolution loops over its k² kernel taps, each a multiply-add
of the whole batch; the pointwise convolution is one matrix product.
"""

from ..backend import array_module
from .checks import expect_ndim, expect_shape


def normalize_padding(padding):
    """An int or a 4-tuple → (top, bottom, left, right)."""
    if isinstance(padding, int):
        return (padding,) * 4
    padding = tuple(int(p) for p in padding)
    if len(padding) != 4 or min(padding) < 0:
        raise ValueError(f"padding must be a non-negative int or (top, bottom, left, right), got {padding}")
    return padding


def pad(x, padding):
    """Zero-pad the last two axes of (N, C, H, W) by (top, bottom, left, right)."""
    t, b, l, r = padding
    if t == b == l == r == 0:
        return x
    xp = array_module(x)
    return xp.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))


def output_size(H, W, kh, kw, stride=1, padding=0):
    """(Ho, Wo) of a kh×kw window sliding with ``stride`` over H×W padded by ``padding`` — the one place
    this formula is written (convolutions, pooling, the MobileNet and primary-capsule grids use it)."""
    t, b, l, r = normalize_padding(padding)
    Ho, Wo = (H + t + b - kh) // stride + 1, (W + l + r - kw) // stride + 1
    if Ho < 1 or Wo < 1:
        raise ValueError(f"x: the padded input ({H + t + b}×{W + l + r}) is smaller than the kernel ({kh}×{kw})")
    return Ho, Wo


def windows(xpad, kh, kw, Ho, Wo, stride):
    """Strided view (N, C, kh, kw, Ho, Wo) of every kernel window: im2col without copying."""
    xp = array_module(xpad)
    sN, sC, sH, sW = xpad.strides
    return xp.lib.stride_tricks.as_strided(
        xpad, shape=(xpad.shape[0], xpad.shape[1], kh, kw, Ho, Wo),
        strides=(sN, sC, sH, sW, stride * sH, stride * sW))


def tap(xpad, p, q, Ho, Wo, stride):
    """The input pixels that kernel tap (p, q) meets, for every output position: (N, C, Ho, Wo)."""
    return xpad[:, :, p:p + stride * (Ho - 1) + 1:stride, q:q + stride * (Wo - 1) + 1:stride]


def _check(x, w, b, w_layout, cin_expected):
    expect_ndim("x", x, 4, "(N, C, H, W)")
    expect_ndim("w", w, 4, w_layout)
    expect_shape("w", w, (None, cin_expected, None, None))
    if b is not None:
        expect_shape("b", b, (w.shape[0],))


# --------------------------------------------------------------------------------------------------
def conv2d_forward(x, w, b=None, stride=1, padding=0):
    """Standard 2-D cross-correlation.

        y[n,o,i,j] = b[o] + Σ_{c,p,q} w[o,c,p,q] · xpad[n, c, s·i+p, s·j+q]

    x: (N, Cin, H, W)   w: (Cout, Cin, kh, kw)   b: (Cout,) or None   →   y: (N, Cout, Ho, Wo)
    Backward: dw[o,c,p,q] = Σ_{n,i,j} dy[n,o,i,j] · xpad[n,c,s·i+p,s·j+q];  db[o] = Σ dy[n,o,·,·];
    dxpad[n,c,s·i+p,s·j+q] += Σ_o w[o,c,p,q] · dy[n,o,i,j], then the padding is cut away.
    """
    _check(x, w, b, "(Cout, Cin, kh, kw)", x.shape[1] if x.ndim == 4 else None)
    xp = array_module(x)
    padding = normalize_padding(padding)
    Cout, Cin, kh, kw = w.shape
    Ho, Wo = output_size(x.shape[2], x.shape[3], kh, kw, stride, padding)
    xpad = pad(x, padding)
    cols = windows(xpad, kh, kw, Ho, Wo, stride)                   # (N, Cin, kh, kw, Ho, Wo) view
    out = xp.tensordot(cols, w, axes=([1, 2, 3], [1, 2, 3]))       # (N, Ho, Wo, Cout)
    out = out.transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b[:, None, None]
    cache = {"xpad_shape": xpad.shape, "cols": cols, "w": w, "stride": stride, "padding": padding,
             "has_bias": b is not None, "xpad": xpad}
    return xp.ascontiguousarray(out), cache


def conv2d_backward(dout, cache):
    xp = array_module(dout)
    w, stride, (t, bt, l, r) = cache["w"], cache["stride"], cache["padding"]
    Cout, Cin, kh, kw = w.shape
    N, _, Ho, Wo = dout.shape
    dw = xp.tensordot(dout, cache["cols"], axes=([0, 2, 3], [0, 4, 5]))   # (Cout, Cin, kh, kw)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    dcols = xp.tensordot(w, dout, axes=([0], [1]))                          # (Cin, kh, kw, N, Ho, Wo)
    dxpad = xp.zeros(cache["xpad_shape"], dtype=dout.dtype)
    for p in range(kh):
        for q in range(kw):
            tap(dxpad, p, q, Ho, Wo, stride)[...] += dcols[:, p, q].transpose(1, 0, 2, 3)
    Hp, Wp = dxpad.shape[2:]
    return dxpad[:, :, t:Hp - bt, l:Wp - r], dw, db


# --------------------------------------------------------------------------------------------------
def depthwise_conv2d_forward(x, w, b=None, stride=1, padding=0):
    """Depthwise 2-D cross-correlation: one k×k filter per channel (PyTorch's groups = C).

        y[n,c,i,j] = b[c] + Σ_{p,q} w[c,0,p,q] · xpad[n, c, s·i+p, s·j+q]

    x: (N, C, H, W)   w: (C, 1, kh, kw)   b: (C,) or None   →   y: (N, C, Ho, Wo)
    Backward: dw[c,0,p,q] = Σ_{n,i,j} dy[n,c,i,j] · xpad[n,c,s·i+p,s·j+q];
    dxpad[n,c,s·i+p,s·j+q] += w[c,0,p,q] · dy[n,c,i,j] (one slice-add per tap), padding cut away.
    """
    expect_ndim("x", x, 4, "(N, C, H, W)")
    expect_ndim("w", w, 4, "(C, 1, kh, kw)")
    expect_shape("w", w, (x.shape[1], 1, None, None))
    if b is not None:
        expect_shape("b", b, (x.shape[1],))
    xp = array_module(x)
    padding = normalize_padding(padding)
    C, _, kh, kw = w.shape
    Ho, Wo = output_size(x.shape[2], x.shape[3], kh, kw, stride, padding)
    xpad = pad(x, padding)
    out = xp.zeros((x.shape[0], C, Ho, Wo), dtype=x.dtype)
    tmp = xp.empty_like(out)                                   # one scratch buffer, no temporaries per tap
    for p in range(kh):
        for q in range(kw):
            xp.multiply(tap(xpad, p, q, Ho, Wo, stride), w[:, 0, p, q][:, None, None], out=tmp)
            out += tmp
    if b is not None:
        out += b[:, None, None]
    cache = {"xpad": xpad, "w": w, "stride": stride, "padding": padding, "has_bias": b is not None}
    return out, cache


def depthwise_conv2d_backward(dout, cache):
    xp = array_module(dout)
    xpad, w, stride, (t, bt, l, r) = cache["xpad"], cache["w"], cache["stride"], cache["padding"]
    C, _, kh, kw = w.shape
    Ho, Wo = dout.shape[2:]
    # dw in one pass over the strided windows (einsum beats nine multiply-and-sum passes here)
    dw = xp.einsum("ncpqhw,nchw->cpq", windows(xpad, kh, kw, Ho, Wo, stride), dout)[:, None].astype(w.dtype)
    dxpad = xp.zeros_like(xpad)
    tmp = xp.empty_like(dout)
    for p in range(kh):
        for q in range(kw):
            xp.multiply(dout, w[:, 0, p, q][:, None, None], out=tmp)
            tap(dxpad, p, q, Ho, Wo, stride)[...] += tmp
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    Hp, Wp = dxpad.shape[2:]
    return dxpad[:, :, t:Hp - bt, l:Wp - r], dw, db


# --------------------------------------------------------------------------------------------------
def pointwise_conv2d_forward(x, w, b=None):
    """Pointwise (1×1) convolution: a matrix product over channels at every pixel.

        y[n,o,h,w] = b[o] + Σ_c w[o,c,0,0] · x[n,c,h,w]

    x: (N, Cin, H, W)   w: (Cout, Cin, 1, 1)   b: (Cout,) or None   →   y: (N, Cout, H, W)
    Backward: dx = Wᵀ·dy per pixel;  dw[o,c] = Σ_{n,h,w} dy[n,o,h,w]·x[n,c,h,w];  db[o] = Σ dy[n,o,·,·].
    """
    _check(x, w, b, "(Cout, Cin, 1, 1)", x.shape[1] if x.ndim == 4 else None)
    expect_shape("w", w, (None, x.shape[1], 1, 1))
    N, Cin, H, W = x.shape
    w2 = w.reshape(w.shape[0], Cin)
    out = (w2 @ x.reshape(N, Cin, H * W)).reshape(N, -1, H, W)     # (Cout, Cin) @ (N, Cin, HW)
    if b is not None:
        out += b[:, None, None]
    return out, {"x": x, "w": w, "has_bias": b is not None}


def pointwise_conv2d_backward(dout, cache):
    xp = array_module(dout)
    x, w = cache["x"], cache["w"]
    N, Cin, H, W = x.shape
    Cout = w.shape[0]
    d2 = dout.reshape(N, Cout, H * W)
    x2 = x.reshape(N, Cin, H * W)
    dx = (w.reshape(Cout, Cin).T @ d2).reshape(x.shape)
    dw = xp.tensordot(d2, x2, axes=([0, 2], [0, 2])).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dx, dw, db
