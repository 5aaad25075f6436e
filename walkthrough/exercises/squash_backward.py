"""Exercise: the backward pass of squash.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/squash_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.squash_forward) works along the last axis:

    n = |s|²,   r = sqrt(n + ε),   g(n) = n / ((1 + n) · r),   v = g(n) · s          (ε = 1e-7)

and stores cache = {"s": s, "n": n, "r": r, "g": g}  (n, r and g have a trailing axis of size 1).

Your task: given dout = ∂L/∂v of shape (..., D), return ds = ∂L/∂s of the same shape and dtype.
Every component of v depends on all components of s through |s|: the Jacobian is not diagonal.
Work out g'(n) and use the product rule; keep it finite at s = 0.
"""

from lcn_np.ops import squash_forward  # noqa: F401  (the grader pairs your backward with it)


def squash_backward(dout, cache):
    s, n, r, g = cache["s"], cache["n"], cache["r"], cache["g"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write squash_backward")
    # ---- END OF YOUR CODE ----
