"""Wrong: keeps the variance term but drops the term through the mean μ."""


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    axes = (0, 2, 3)
    dxhat = dout * gamma[:, None, None]
    dx = inv_std[:, None, None] * (dxhat - x_hat * (dxhat * x_hat).mean(axis=axes, keepdims=True))
    return dx, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)
