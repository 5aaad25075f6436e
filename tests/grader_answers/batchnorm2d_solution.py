"""Reference solution: batchnorm2d_backward, written from the exercise's docstring."""


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    axes = (0, 2, 3)
    dbeta = dout.sum(axis=axes)
    dgamma = (dout * x_hat).sum(axis=axes)
    dxhat = dout * gamma[:, None, None]
    # x reaches x̂ directly, through μ and through σ²: the last two subtract the mean and the x̂-part of dx̂
    dx = inv_std[:, None, None] * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                                   - x_hat * (dxhat * x_hat).mean(axis=axes, keepdims=True))
    return dx, dgamma, dbeta
