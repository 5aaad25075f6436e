"""Wrong: averages dgamma and dbeta over (N, H, W) instead of summing."""


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    axes = (0, 2, 3)
    dxhat = dout * gamma[:, None, None]
    dx = inv_std[:, None, None] * (dxhat - dxhat.mean(axis=axes, keepdims=True)
                                   - x_hat * (dxhat * x_hat).mean(axis=axes, keepdims=True))
    return dx, (dout * x_hat).mean(axis=axes), dout.mean(axis=axes)
