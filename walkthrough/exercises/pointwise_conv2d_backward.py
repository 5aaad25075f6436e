"""Exercise: the backward pass of a pointwise (1×1) convolution.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/pointwise_conv2d_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.pointwise_conv2d_forward):

    y[n,o,h,w] = b[o] + Σ_c w[o,c,0,0] · x[n,c,h,w]
    x: (N, Cin, H, W)   w: (Cout, Cin, 1, 1)   b: (Cout,) or None   →   y: (N, Cout, H, W)

It stores cache = {"x": x, "w": w, "has_bias": b is not None}.

Your task: return (dx, dw, db) with the shapes and dtypes of x, w and b (db = None without a bias).
Hint: at every pixel this is a matrix product over channels. No Python loops over pixels or the batch.
"""

from lcn_np.ops import pointwise_conv2d_forward  # noqa: F401


def pointwise_conv2d_backward(dout, cache):
    x, w, has_bias = cache["x"], cache["w"], cache["has_bias"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write pointwise_conv2d_backward")
    # ---- END OF YOUR CODE ----
