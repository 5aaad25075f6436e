"""Exercise: the backward pass of batch normalisation in training mode.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/batchnorm2d_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.batchnorm2d_forward), per channel over M = N·H·W values:

    μ = mean x,  σ² = mean (x − μ)²,  x̂ = (x − μ) / sqrt(σ² + ε),  y = γ·x̂ + β

It stores cache = {"x_hat": x̂ (N, C, H, W), "gamma": γ (C,), "inv_std": 1/sqrt(σ² + ε) (C,),
"train": True}.

Your task: return (dx, dgamma, dbeta) with the shapes of x, γ and β. μ and σ² depend on x too:
dx has three terms. Sum over every axis except the channel axis.
"""

from lcn_np.ops import batchnorm2d_forward  # noqa: F401


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write batchnorm2d_backward")
    # ---- END OF YOUR CODE ----
