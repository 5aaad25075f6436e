"""Wrong: treats μ and σ² as constants — the backward of evaluation mode, used in training mode."""


def batchnorm2d_backward(dout, cache):
    x_hat, gamma, inv_std = cache["x_hat"], cache["gamma"], cache["inv_std"]
    axes = (0, 2, 3)
    return dout * (gamma * inv_std)[:, None, None], (dout * x_hat).sum(axis=axes), dout.sum(axis=axes)
