"""Wrong: differentiates through the mean but forgets that σ² depends on x too."""


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    axes = (0, 2, 3)
    dxhat = dout * gamma[:, None, None]
    dx = inv_std[:, None, None] * (dxhat - dxhat.mean(axis=axes, keepdims=True))
    return dx, (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)
