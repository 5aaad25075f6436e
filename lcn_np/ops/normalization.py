"""Batch normalisation over (N, H, W) for each channel, with PyTorch's semantics.

Training:  μ = mean_{n,h,w} x,  σ² = mean (x − μ)²  (biased),  x̂ = (x − μ)/sqrt(σ² + ε),  y = γ x̂ + β;
           running_mean ← (1−m)·running_mean + m·μ,  running_var ← (1−m)·running_var + m·σ²·M/(M−1)
           (unbiased, M = N·H·W), updated in place.
Eval:      x̂ = (x − running_mean)/sqrt(running_var + ε).

Backward (training), with M = N·H·W and sums over (n, h, w):
    dγ = Σ dy·x̂,   dβ = Σ dy,   dx = γ/(M·sqrt(σ²+ε)) · (M·dy − Σ dy − x̂·Σ dy·x̂)
In eval mode μ and σ² are constants, so dx = γ·dy/sqrt(running_var + ε).
"""

from .checks import expect_ndim, expect_shape


def batchnorm2d_forward(x, gamma, beta, running_mean, running_var, train=True, momentum=0.1, eps=1e-5):
    """x: (N, C, H, W); gamma, beta, running_mean, running_var: (C,) → y: (N, C, H, W)."""
    expect_ndim("x", x, 4, "(N, C, H, W)")
    C = x.shape[1]
    for name, a in (("gamma", gamma), ("beta", beta), ("running_mean", running_mean), ("running_var", running_var)):
        expect_shape(name, a, (C,))
    axes = (0, 2, 3)
    if train:
        M = x.shape[0] * x.shape[2] * x.shape[3]
        if M < 2:
            raise ValueError(f"x: batch normalisation in training mode needs more than one value per channel, "
                             f"got shape {x.shape}")
        mean = x.mean(axis=axes)
        var = x.var(axis=axes)
        running_mean *= 1 - momentum
        running_mean += momentum * mean
        running_var *= 1 - momentum
        running_var += momentum * var * (M / (M - 1))
    else:
        mean, var = running_mean, running_var
    inv_std = 1.0 / (var + eps) ** 0.5
    x_hat = (x - mean[:, None, None]) * inv_std[:, None, None]
    out = gamma[:, None, None] * x_hat + beta[:, None, None]
    return out.astype(x.dtype, copy=False), {"x_hat": x_hat, "gamma": gamma, "inv_std": inv_std, "train": train}


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    axes = (0, 2, 3)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    if not cache["train"]:
        return dout * (gamma * inv_std)[:, None, None], dgamma, dbeta
    M = dout.shape[0] * dout.shape[2] * dout.shape[3]
    dx = (gamma * inv_std / M)[:, None, None] * (M * dout - dbeta[:, None, None] - x_hat * dgamma[:, None, None])
    return dx, dgamma, dbeta
