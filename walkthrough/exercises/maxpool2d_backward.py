"""Exercise: the backward pass of max-pooling.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/maxpool2d_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.maxpool2d_forward(x, size, stride)), floor mode:

    y[n,c,i,j] = max_{p,q < size} x[n,c,s·i+p, s·j+q]

It stores cache = {"argmax": for every output, the index p·size + q of the winning tap (N, C, Ho, Wo),
"x_shape": x.shape, "size": size, "stride": s, "dtype": x.dtype}.
lcn_np.ops.tap(a, p, q, Ho, Wo, stride) gives the (N, C, Ho, Wo) view of a that tap (p, q) meets.

Your task: return dx of x's shape: each output's gradient goes to the one input that held the maximum.
"""

from lcn_np.ops import tap  # noqa: F401
from lcn_np.ops import maxpool2d_forward  # noqa: F401


def maxpool2d_backward(dout, cache):
    argmax, size, stride = cache["argmax"], cache["size"], cache["stride"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write maxpool2d_backward")
    # ---- END OF YOUR CODE ----
