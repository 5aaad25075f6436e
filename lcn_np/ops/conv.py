"""Convolutions: standard, depthwise and pointwise (1×1) — the building blocks of a DSC block.

All three are cross-correlations in PyTorch's layout, with zero padding::

    x: (N, C, H, W)      padding p: an int (all sides) or (top, bottom, left, right)
    Ho = (H + top + bottom − kh) // s + 1,    Wo likewise

A depthwise-separable convolution (DSC) = depthwise k×k (one filter per channel) followed by a
pointwise 1×1 (mixes channels). For Cin → Cout with k×k kernels it has Cin·k² + Cin·Cout weights
instead of Cin·Cout·k² — for 64 → 128 with 3×3: 8 768 instead of 73 728.

Speed: the standard convolution (stride 1) is kh·kw matrix products on shifted views of the padded
input; the pointwise convolution one matrix product per example; the depthwise convolution k² multiply-
adds per chunk of the batch, the chunks spread over both cores by :mod:`lcn_np.parallel`. The plain
im2col form stays as :func:`conv2d_reference`, and the tests check that both agree.
"""

from ..backend import array_module
from ..parallel import cache_blocks, for_chunks, map_chunks, sum_in_order
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
    """Zero-pad the last two axes of (N, C, H, W) by (top, bottom, left, right).

    Equal to ``xp.pad(x, ((0, 0), (0, 0), (t, b), (l, r)))`` (the reference), written as "copy the
    interior, zero the four borders" chunk by chunk on the thread pool: one pass instead of a generic pad."""
    t, b, l, r = padding
    if t == b == l == r == 0:
        return x
    xp = array_module(x)
    N, C, H, W = x.shape
    out = xp.empty((N, C, H + t + b, W + l + r), dtype=x.dtype)

    def part(lo, hi):
        o = out[lo:hi]
        o[:, :, :t] = 0
        o[:, :, t + H:] = 0
        o[:, :, t:t + H, :l] = 0
        o[:, :, t:t + H, l + W:] = 0
        o[:, :, t:t + H, l:l + W] = x[lo:hi]
    for_chunks(N, part, xp, work=out.size)
    return out


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


def im2col(xpad, kh, kw, Ho, Wo, stride):
    """The windows as a matrix, (N·Ho·Wo, C·kh·kw): a row per output pixel (n, i, j), a column per weight
    (c, p, q) — a copy, the one ``xp.tensordot(windows(…), w, axes=([1, 2, 3], [1, 2, 3]))`` makes inside
    (the same matrix, so the same products); kept in the cache, the backward's dw reuses it."""
    N, C = xpad.shape[:2]
    cols = windows(xpad, kh, kw, Ho, Wo, stride)                   # (N, C, kh, kw, Ho, Wo) view
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(N * Ho * Wo, C * kh * kw)


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

    Stride 1 (every 3×3 layer of the front ends) runs as kh·kw matrix products on shifted views — see
    :func:`conv2d_shifted`; other strides run :func:`conv2d_reference`, im2col as one matrix product.
    A network's first layer sets ``cache["need_dx"] = False``: the backward then skips dx (returns None).
    """
    _check(x, w, b, "(Cout, Cin, kh, kw)", x.shape[1] if x.ndim == 4 else None)
    padding = normalize_padding(padding)
    kh, kw = w.shape[2:]
    output_size(x.shape[2], x.shape[3], kh, kw, stride, padding)          # checks the sizes
    if stride != 1:
        return conv2d_reference(x, w, b, stride, padding)
    xpad = pad(x, padding)
    out = conv2d_shifted(xpad, w)
    if b is not None:
        out += b[:, None, None]
    return out, {"xpad": xpad, "w": w, "stride": 1, "padding": padding, "has_bias": b is not None}


def conv2d_backward(dout, cache):
    if cache["stride"] != 1:
        return conv2d_reference_backward(dout, cache)
    xp = array_module(dout)
    xpad, w, (t, bt, l, r) = cache["xpad"], cache["w"], cache["padding"]
    N, Cout, Ho, Wo = dout.shape
    _, Cin, Hp, Wp = xpad.shape
    kh, kw = w.shape[2:]
    # dw[:, :, p, q] = Σ_n dy[n] · (tap (p, q) of xpad[n])ᵀ, each a product of flat (Cout, L) and (Cin, L)
    # matrices (see conv2d_shifted): dy is laid on the padded width, zeros in the kw − 1 extra columns.
    L = (Ho - 1) * Wp + Wo
    dflat = xp.zeros((N, Cout, Ho, Wp), dtype=dout.dtype)
    dflat[:, :, :, :Wo] = dout
    dflat = dflat.reshape(N, Cout, Ho * Wp)[:, :, :L]
    xflat = xpad.reshape(N, Cin, Hp * Wp)

    def part(lo, hi):                                    # dw over one chunk of the batch, (kh, kw, Cout, Cin)
        return xp.stack([xp.stack([(dflat[lo:hi] @ xflat[lo:hi, :, p * Wp + q:p * Wp + q + L].transpose(0, 2, 1))
                                   .sum(axis=0) for q in range(kw)]) for p in range(kh)])
    dw = xp.ascontiguousarray(sum_in_order(for_chunks(N, part, xp, work=dflat.size * Cin * kh * kw))
                              .transpose(2, 3, 0, 1))
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    if not cache.get("need_dx", True):
        return None, dw, db
    # dx is the full correlation of dy with the kernel flipped and transposed (Cin ↔ Cout): the forward
    # again, on dy padded by k − 1 − (the forward's padding).
    full = (kh - 1 - t, kh - 1 - bt, kw - 1 - l, kw - 1 - r)
    if min(full) >= 0:
        dx = conv2d_shifted(pad(dout, full), w.transpose(1, 0, 2, 3)[:, :, ::-1, ::-1])
    else:
        dx = conv2d_reference_backward(dout, {"xpad": xpad, "xpad_shape": xpad.shape, "w": w, "stride": 1,
                                               "padding": cache["padding"], "has_bias": False})[0]
    return dx, dw, db


def conv2d_shifted(xpad, w):
    """Stride-1 correlation of an already padded input, as kh·kw matrix products on shifted views.

    Flatten each map row by row: xflat[n, c, h·Wp + w']. Output (i, j) reads xflat at (i+p)·Wp + (j+q),
    so tap (p, q) is one contiguous slice, offset p·Wp + q, of length L = (Ho−1)·Wp + Wo, and
    Σ_{p,q} w[:, :, p, q] @ slice is the whole convolution — computed on a Wp-wide grid whose last
    kw − 1 columns wrap around into the next row and are cut away at the end.

    xpad: (N, Cin, Hp, Wp)   w: (Cout, Cin, kh, kw)   →   (N, Cout, Hp−kh+1, Wp−kw+1), contiguous.
    """
    xp = array_module(xpad)
    N, Cin, Hp, Wp = xpad.shape
    Cout, _, kh, kw = w.shape
    Ho, Wo = Hp - kh + 1, Wp - kw + 1
    L = (Ho - 1) * Wp + Wo
    xflat = xpad.reshape(N, Cin, Hp * Wp)
    acc = xp.zeros((N, Cout, Ho * Wp), dtype=xpad.dtype)
    w_taps = xp.ascontiguousarray(w.transpose(2, 3, 0, 1))               # (kh, kw, Cout, Cin)

    def part(xf, acc):
        for p in range(kh):
            for q in range(kw):
                off = p * Wp + q
                acc[:, :, :L] += w_taps[p, q] @ xf[:, :, off:off + L]
    map_chunks(part, xflat, acc, work=acc.size * Cin * kh * kw)
    return xp.ascontiguousarray(acc.reshape(N, Cout, Ho, Wp)[:, :, :, :Wo])


def conv2d_reference(x, w, b=None, stride=1, padding=0):
    """The plain form of :func:`conv2d_forward`: im2col (:func:`im2col`), then one matrix product.

    Any stride; used directly for stride ≠ 1, and by the tests as the reference for the stride-1 path."""
    xp = array_module(x)
    padding = normalize_padding(padding)
    Cout, Cin, kh, kw = w.shape
    Ho, Wo = output_size(x.shape[2], x.shape[3], kh, kw, stride, padding)
    xpad = pad(x, padding)
    patches = im2col(xpad, kh, kw, Ho, Wo, stride)                 # (N·Ho·Wo, Cin·kh·kw)
    out = xp.dot(patches, w.transpose(1, 2, 3, 0).reshape(Cin * kh * kw, Cout))
    out = out.reshape(x.shape[0], Ho, Wo, Cout).transpose(0, 3, 1, 2)
    if b is not None:
        out = out + b[:, None, None]
    cache = {"xpad": xpad, "xpad_shape": xpad.shape, "patches": patches, "w": w, "stride": stride,
             "padding": padding, "has_bias": b is not None}
    return xp.ascontiguousarray(out), cache


def conv2d_reference_backward(dout, cache):
    """Backward of :func:`conv2d_reference`: dw from the forward's im2col matrix, dx scattered back tap by tap."""
    xp = array_module(dout)
    w, stride, (t, bt, l, r) = cache["w"], cache["stride"], cache["padding"]
    kh, kw = w.shape[2:]
    Ho, Wo = dout.shape[2:]
    N, Cout = dout.shape[:2]
    patches = cache.get("patches")                       # the forward's im2col (absent: made again)
    if patches is None:
        patches = im2col(cache["xpad"], kh, kw, Ho, Wo, stride)
    # dw[o, (c,p,q)] = Σ_{(n,i,j)} dy[n,o,i,j] · patches[(n,i,j), (c,p,q)]
    dw = xp.dot(dout.transpose(1, 0, 2, 3).reshape(Cout, N * Ho * Wo), patches).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    if not cache.get("need_dx", True):
        return None, dw, db
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

    Speed: :func:`depthwise_flat_taps` (one multiply-add per tap, each tap one contiguous slice of the
    flattened map) runs on chunks of the batch on the thread pool of :mod:`lcn_np.parallel`, so a chunk's
    output stays in cache while its k² taps are added; :func:`depthwise_taps` is the plain per-tap form.
    Stride > 1 runs channels last inside the op (:func:`depthwise_strided_forward`; the cache then
    also holds that copy of xpad, "xpad_last").
    """
    expect_ndim("x", x, 4, "(N, C, H, W)")
    expect_ndim("w", w, 4, "(C, 1, kh, kw)")
    expect_shape("w", w, (x.shape[1], 1, None, None))
    if b is not None:
        expect_shape("b", b, (x.shape[1],))
    xp = array_module(x)
    padding = normalize_padding(padding)
    N, C = x.shape[:2]
    kh, kw = w.shape[2:]
    Ho, Wo = output_size(x.shape[2], x.shape[3], kh, kw, stride, padding)
    xpad = pad(x, padding)
    cache = {"xpad": xpad, "w": w, "stride": stride, "padding": padding, "has_bias": b is not None}
    if stride != 1:                                      # small strided maps: channels last (see below)
        cache["xpad_last"] = to_channels_last(xpad)
        out = depthwise_strided_forward(cache["xpad_last"], w, stride, Ho, Wo)
        if b is not None:
            out += b[:, None, None]
        return out, cache
    out = xp.empty((N, C, Ho, Wo), dtype=x.dtype)

    def part(lo, hi):
        depthwise_flat_taps(xpad[lo:hi], w, out[lo:hi])
        if b is not None:
            out[lo:hi] += b[:, None, None]
    for_chunks(N, part, xp, work=out.size * w[0].size)
    return out, cache


def depthwise_taps(xpad, w, stride, out):
    """out[n,c] = Σ_{p,q} w[c,0,p,q] · tap(xpad, p, q)[n,c]: the depthwise sum, one multiply-add per tap,
    written into ``out`` (N, C, Ho, Wo).

    The k² multiply-adds pass over ``out`` k² times, so they run on blocks of channels small enough
    (:func:`lcn_np.parallel.cache_blocks`) that the block, its scratch buffer and its input stay in the
    core's cache between passes. Element-wise work: the blocks do not change a bit of the result."""
    xp = array_module(xpad)
    N, C, Ho, Wo = out.shape
    kh, kw = w.shape[2:]
    blocks = cache_blocks(C, N * Ho * Wo)
    tmp = xp.empty((N, blocks[0].stop, Ho, Wo), dtype=out.dtype)
    for cs in blocks:
        o, xb, wb = out[:, cs], xpad[:, cs], w[cs, 0]
        t = tmp[:, :o.shape[1]]
        for p in range(kh):
            for q in range(kw):
                dst = o if p == q == 0 else t
                xp.multiply(tap(xb, p, q, Ho, Wo, stride), wb[:, p, q][:, None, None], out=dst)
                if dst is t:
                    o += t


def depthwise_flat_taps(xpad, w, out):
    """:func:`depthwise_taps` for stride 1, the same sums in the same order (the same bits), on flattened maps.

    Flatten each padded map row by row, xflat[n, c, h·Wp + w']: output (i, j) reads xflat at
    (i+p)·Wp + (j+q), so tap (p, q) is one contiguous slice, offset p·Wp + q, of length
    L = (Ho−1)·Wp + Wo — the trick of :func:`conv2d_shifted`. The sums run on a Wp-wide grid whose last
    kw − 1 columns wrap into the next row and are cut away when a block is copied into ``out``. Why: a
    tap of :func:`depthwise_taps` is an (N, C, Ho, Wo) view whose rows are Wo elements apart from
    the next, so NumPy's inner loop runs Wo elements at a time; here it runs L, about Ho times more
    (measured on one core, a (2, 64, 64, 64) chunk: 8.3 → 3.9 ms). The blocks of channels are counted on
    Ho·Wo, as in :func:`depthwise_taps`, not on the Ho·Wp the buffers hold: at 128² that keeps two channels
    to a block rather than one, and one-channel blocks ran the (16, 64, 128, 128) forward 1.7× slower on
    two threads (67 → 159 ms; measured, cause not pinned down).

    xpad: (N, C, Hp, Wp), each map contiguous   w: (C, 1, kh, kw)   out: (N, C, Hp−kh+1, Wp−kw+1)."""
    xp = array_module(xpad)
    N, C, Hp, Wp = xpad.shape
    kh, kw = w.shape[2:]
    Ho, Wo = out.shape[2:]
    L = (Ho - 1) * Wp + Wo
    xflat = xpad.reshape(N, C, Hp * Wp)
    w_taps = w[:, 0].reshape(C, kh * kw)
    blocks = cache_blocks(C, N * Ho * Wo)                 # the blocks of depthwise_taps: see the docstring
    acc = xp.empty((N, blocks[0].stop, Ho * Wp), dtype=out.dtype)
    tmp = xp.empty((N, blocks[0].stop, L), dtype=out.dtype)
    for cs in blocks:
        cb = cs.stop - cs.start
        a, t, xb = acc[:, :cb], tmp[:, :cb], xflat[:, cs]
        for p in range(kh):
            for q in range(kw):
                off = p * Wp + q
                dst = a[:, :, :L] if p == q == 0 else t
                xp.multiply(xb[:, :, off:off + L], w_taps[cs, p * kw + q, None], out=dst)
                if dst is t:
                    a[:, :, :L] += t
        out[:, cs] = a.reshape(N, cb, Ho, Wp)[:, :, :, :Wo]


def to_channels_last(x):
    """(N, C, H, W) → (H, W, N, C), contiguous: ``ascontiguousarray(x.transpose(2, 3, 0, 1))``, copied as
    the 2-D transpose it is — (N·C, H·W) → (H·W, N·C): NumPy copies that faster than the 4-D view, whose
    innermost runs are only C long (0.91 → 0.66 ms at (16, 16, 34, 146), one thread, idle)."""
    xp = array_module(x)
    N, C, H, W = x.shape
    return xp.ascontiguousarray(x.reshape(N * C, H * W).T).reshape(H, W, N, C)


def from_channels_last(x_last):
    """(H, W, N, C) → (N, C, H, W), contiguous: the inverse of :func:`to_channels_last` (2.91 → 0.66 ms
    at (34, 146, 16, 16), one thread, against ``ascontiguousarray(x_last.transpose(2, 3, 0, 1))``)."""
    xp = array_module(x_last)
    H, W, N, C = x_last.shape
    return xp.ascontiguousarray(x_last.reshape(H * W, N * C).T).reshape(N, C, H, W)


def tiled_taps(w, n):
    """The depthwise kernel w (C, 1, kh, kw) as (kh, kw, n, C): tap (p, q)'s weights repeated for n
    examples. Multiplying a channels-last tap (Ho, Wo, n, C) by w_taps[p, q] then runs NumPy's inner
    loop over n·C contiguous elements rather than C (with C = 16, 2.19 → 1.51 ms for a backward's nine
    taps at (16, 72, 16, 16), one thread); the products are the same."""
    xp = array_module(w)
    C, _, kh, kw = w.shape
    return xp.ascontiguousarray(xp.broadcast_to(w[:, 0].transpose(1, 2, 0)[:, :, None, :], (kh, kw, n, C)))


def strided_tap(x_last, p, q, Ho, Wo, stride):
    """:func:`tap` for a channels-last array (H, W, N, C): the pixels tap (p, q) meets, (Ho, Wo, N, C)."""
    return x_last[p:p + stride * (Ho - 1) + 1:stride, q:q + stride * (Wo - 1) + 1:stride]


def depthwise_strided_forward(xpad_last, w, stride, Ho, Wo):
    """The depthwise sum for stride > 1, on the padded input laid out channels last (Hp, Wp, N, C):

        y[i,j,n,c] = Σ_{p,q} w[c,0,p,q] · xpad_last[s·i+p, s·j+q, n, c]     → returned as (N, C, Ho, Wo)

    Why the other layout: a strided layer's maps are small (the primary capsules' 9×9 / 2 convolution
    meets a 16×16 map and writes 4×4), so in (N, C, H, W) each of the k² taps would be an operation whose
    innermost run is Wo ≈ 4 elements, every other one — Python-sized work. Channels last, the innermost
    run of every tap is a whole (n, C) block, contiguous, and so is the weights' (:func:`tiled_taps`);
    the copies into and out of that layout are 2-D transposes (:func:`to_channels_last`). The same
    multiply-adds in the same order as :func:`depthwise_taps`, so the same bits. Two fixed halves of the
    batch go to the thread pool."""
    xp = array_module(xpad_last)
    N, C = xpad_last.shape[2:]
    kh, kw = w.shape[2:]
    out = xp.empty((Ho, Wo, N, C), dtype=xpad_last.dtype)

    def part(lo, hi):
        o, xs = out[:, :, lo:hi], xpad_last[:, :, lo:hi]
        w_taps = tiled_taps(w, hi - lo)                                    # (kh, kw, n, C)
        t = xp.empty_like(o)
        for p in range(kh):
            for q in range(kw):
                dst = o if p == q == 0 else t
                xp.multiply(strided_tap(xs, p, q, Ho, Wo, stride), w_taps[p, q], out=dst)
                if dst is t:
                    o += t
    for_chunks(N, part, xp, max_chunks=2, work=out.size * kh * kw)
    return from_channels_last(out)


def depthwise_strided_backward(dout, xpad_last, w, stride):
    """Backward of :func:`depthwise_strided_forward` (channels last inside, NCHW outside):

        dw[c,0,p,q] = Σ_{i,j,n} dy[i,j,n,c] · xpad_last[s·i+p, s·j+q, n, c]
        dxpad[s·i+p, s·j+q, n, c] += w[c,0,p,q] · dy[i,j,n,c]          (one slice-add per tap)

    Returns (dxpad (N, C, Hp, Wp), dw (C, 1, kh, kw)); two fixed halves of the batch on the pool."""
    xp = array_module(dout)
    N, C, Ho, Wo = dout.shape
    kh, kw = w.shape[2:]
    d_last = to_channels_last(dout)                                      # (Ho, Wo, N, C)
    dx_last = xp.zeros_like(xpad_last)

    def part(lo, hi):
        d, xs, dxs = d_last[:, :, lo:hi], xpad_last[:, :, lo:hi], dx_last[:, :, lo:hi]
        w_taps = tiled_taps(w, hi - lo)                                    # (kh, kw, n, C)
        t = xp.empty_like(d)
        dw = xp.empty((kh, kw, C), dtype=dout.dtype)
        for p in range(kh):
            for q in range(kw):
                dw[p, q] = xp.einsum("ijnc,ijnc->c", strided_tap(xs, p, q, Ho, Wo, stride), d)
                xp.multiply(d, w_taps[p, q], out=t)
                strided_tap(dxs, p, q, Ho, Wo, stride)[...] += t
        return dw
    dw = sum_in_order(for_chunks(N, part, xp, max_chunks=2, work=dout.size * kh * kw))
    return from_channels_last(dx_last), xp.ascontiguousarray(dw.transpose(2, 0, 1))[:, None]


def depthwise_conv2d_backward(dout, cache):
    """Stride 1: dx is the full correlation of dy with the flipped kernel,

        dx[n,c,h,w] = Σ_{p,q} w[c,0,p,q] · dy[n,c,h+t−p, w+l−q]     (dy = 0 outside its map)

    i.e. :func:`depthwise_flat_taps` again, on dy padded by k − 1 − (the forward's padding): contiguous, no
    scatter. Other strides run :func:`depthwise_strided_backward` (the scatter of the forward's
    docstring, channels last); :func:`depthwise_conv2d_reference_backward` is that scatter in NCHW, the
    tests' reference for every stride."""
    xpad, w, stride, (t, bt, l, r) = cache["xpad"], cache["w"], cache["stride"], cache["padding"]
    kh, kw = w.shape[2:]
    if stride != 1 and "xpad_last" in cache:
        dxpad, dw = depthwise_strided_backward(dout, cache["xpad_last"], w, stride)
        db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
        Hp, Wp = dxpad.shape[2:]
        return dxpad[:, :, t:Hp - bt, l:Wp - r], dw, db
    full = (kh - 1 - t, kh - 1 - bt, kw - 1 - l, kw - 1 - r)
    if stride != 1 or min(full) < 0:
        return depthwise_conv2d_reference_backward(dout, cache)
    xp = array_module(dout)
    N, C, Ho, Wo = dout.shape
    Hp, Wp = xpad.shape[2:]
    need_dx = cache.get("need_dx", True)                 # False for a network's first layer: dw only
    if need_dx:
        dpad, w_flip = pad(dout, full), w[:, :, ::-1, ::-1]
        dx = xp.empty((N, C, Hp - t - bt, Wp - l - r), dtype=dout.dtype)

    def part(lo, hi):
        if need_dx:
            depthwise_flat_taps(dpad[lo:hi], w_flip, dx[lo:hi])
        return _depthwise_dw(xpad[lo:hi], dout[lo:hi], kh, kw, stride)
    dw = sum_in_order(for_chunks(N, part, xp, work=dout.size * kh * kw)).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dx if need_dx else None, dw, db


def _depthwise_dw(xpad, dout, kh, kw, stride):
    """dw[c, p·kw+q] = Σ_{n,i,j} dy[n,c,i,j] · tap(xpad, p, q)[n,c,i,j]: (C, kh·kw), one product-sum per
    tap, on the same cache-sized blocks of channels as :func:`depthwise_taps` (the k² taps then re-read
    a block from cache, not the whole chunk from memory)."""
    xp = array_module(dout)
    N, C, Ho, Wo = dout.shape
    return xp.concatenate([
        xp.stack([xp.einsum("nchw,nchw->c", tap(xpad[:, cs], p, q, Ho, Wo, stride), dout[:, cs])
                  for p in range(kh) for q in range(kw)], axis=1)
        for cs in cache_blocks(C, N * Ho * Wo)])


def depthwise_conv2d_reference_backward(dout, cache):
    """The plain backward of :func:`depthwise_conv2d_forward`, any stride: dw tap by tap, and dy·w
    scattered back onto the padded input (one slice-add per tap), the padding cut away."""
    xp = array_module(dout)
    xpad, w, stride, (t, bt, l, r) = cache["xpad"], cache["w"], cache["stride"], cache["padding"]
    kh, kw = w.shape[2:]
    N, C, Ho, Wo = dout.shape
    dxpad = xp.zeros_like(xpad)

    def part(lo, hi):
        d, tmp = dout[lo:hi], xp.empty_like(dout[lo:hi])
        for p in range(kh):
            for q in range(kw):
                xp.multiply(d, w[:, 0, p, q][:, None, None], out=tmp)
                tap(dxpad[lo:hi], p, q, Ho, Wo, stride)[...] += tmp
        return _depthwise_dw(xpad[lo:hi], d, kh, kw, stride)
    dw = sum_in_order(for_chunks(N, part, xp, work=dout.size * kh * kw)).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    Hp, Wp = dxpad.shape[2:]
    return dxpad[:, :, t:Hp - bt, l:Wp - r], dw, db


# --------------------------------------------------------------------------------------------------
def pointwise_conv2d_forward(x, w, b=None):
    """Pointwise (1×1) convolution: a matrix product over channels at every pixel.

        y[n,o,h,w] = b[o] + Σ_c w[o,c,0,0] · x[n,c,h,w]

    x: (N, Cin, H, W)   w: (Cout, Cin, 1, 1)   b: (Cout,) or None   →   y: (N, Cout, H, W)
    Backward: dx = Wᵀ·dy per pixel;  dw[o,c] = Σ_{n,h,w} dy[n,o,h,w]·x[n,c,h,w];  db[o] = Σ dy[n,o,·,·].
    Each is one matrix product per example, (Cout, Cin) @ (Cin, H·W), on contiguous slices (no transposed
    copies), a chunk of the batch per thread of :mod:`lcn_np.parallel`.
    """
    _check(x, w, b, "(Cout, Cin, 1, 1)", x.shape[1] if x.ndim == 4 else None)
    expect_shape("w", w, (None, x.shape[1], 1, 1))
    xp = array_module(x)
    N, Cin, H, W = x.shape
    w2 = w.reshape(w.shape[0], Cin)
    out = xp.empty((N, w.shape[0], H * W), dtype=xp.result_type(x, w))

    def part(x, out):
        xp.matmul(w2, x, out=out)                                  # (Cout, Cin) @ (n, Cin, HW)
        if b is not None:
            out += b[:, None]
    map_chunks(part, x.reshape(N, Cin, H * W), out, work=out.size * Cin)
    return out.reshape(N, -1, H, W), {"x": x, "w": w, "has_bias": b is not None}


def pointwise_conv2d_backward(dout, cache):
    xp = array_module(dout)
    x, w = cache["x"], cache["w"]
    N, Cin, H, W = x.shape
    Cout = w.shape[0]
    d2 = dout.reshape(N, Cout, H * W)
    x2 = x.reshape(N, Cin, H * W)
    wT = w.reshape(Cout, Cin).T
    dx = xp.empty(x2.shape, dtype=xp.result_type(dout, w))

    def part(lo, hi):
        xp.matmul(wT, d2[lo:hi], out=dx[lo:hi])
        return (d2[lo:hi] @ x2[lo:hi].transpose(0, 2, 1)).sum(axis=0)   # Σ_n dy[n] x[n]ᵀ over the chunk
    dw = sum_in_order(for_chunks(N, part, xp, work=d2.size * Cin)).reshape(w.shape)
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dx.reshape(x.shape), dw, db
