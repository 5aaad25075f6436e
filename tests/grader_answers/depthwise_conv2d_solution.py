"""Reference solution: depthwise_conv2d_backward, written from the exercise's docstring."""
import numpy as np

from lcn_np.ops import tap


def depthwise_conv2d_backward(dout, cache):
    xpad, w, stride, (top, bottom, left, right) = cache["xpad"], cache["w"], cache["stride"], cache["padding"]
    C, _, kh, kw = w.shape
    Ho, Wo = dout.shape[2:]
    dxpad = np.zeros_like(xpad)
    dw = np.zeros_like(w)
    for p in range(kh):
        for q in range(kw):
            seen = tap(xpad, p, q, Ho, Wo, stride)                     # (N, C, Ho, Wo)
            dw[:, 0, p, q] = (dout * seen).sum(axis=(0, 2, 3))
            tap(dxpad, p, q, Ho, Wo, stride)[...] += dout * w[:, 0, p, q][:, None, None]
    Hp, Wp = xpad.shape[2:]
    dx = dxpad[:, :, top:Hp - bottom, left:Wp - right]
    db = dout.sum(axis=(0, 2, 3)) if cache["has_bias"] else None
    return dx, dw, db
