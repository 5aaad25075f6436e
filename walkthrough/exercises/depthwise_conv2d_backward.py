"""Exercise: the backward pass of a depthwise convolution.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/depthwise_conv2d_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.depthwise_conv2d_forward), one k×k filter per channel:

    y[n,c,i,j] = b[c] + Σ_{p,q} w[c,0,p,q] · xpad[n, c, s·i+p, s·j+q]
    x: (N, C, H, W)   w: (C, 1, kh, kw)   b: (C,) or None   →   y: (N, C, Ho, Wo)

It stores cache = {"xpad": the zero-padded input, "w": w, "stride": s,
"padding": (top, bottom, left, right), "has_bias": b is not None}.
The helper lcn_np.ops.tap(a, p, q, Ho, Wo, stride) returns the view of a padded array that kernel tap
(p, q) meets for every output position, shape (N, C, Ho, Wo) — you may write into it.

Your task: return (dx, dw, db) with the shapes and dtypes of x, w and b (db = None without a bias).
A loop over the kh·kw kernel taps is fine; no loops over the batch, channels or pixels.
"""

from lcn_np.ops import depthwise_conv2d_forward, tap  # noqa: F401


def depthwise_conv2d_backward(dout, cache):
    xpad, w, stride, (top, bottom, left, right) = cache["xpad"], cache["w"], cache["stride"], cache["padding"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write depthwise_conv2d_backward")
    # ---- END OF YOUR CODE ----
