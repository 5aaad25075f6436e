"""Wrong: uses n·irfft as rfft's adjoint for every bin (DC and Nyquist not doubled)."""
import numpy as np

from lcn_np.ops import overlap_add


def power_spectrogram_backward(dout, cache):
    X, win, n, hop = cache["X"], cache["win"], cache["n_fft"], cache["hop_length"]
    g = dout if cache["batched"] else dout[None]
    Z = 2 * g.transpose(0, 2, 1) * X                 # dP/dRe = 2 Re, dP/dIm = 2 Im: as a complex number 2·g·X
    dframe = n / 2 * np.fft.irfft(Z, n=n, axis=-1) * win
    dx = overlap_add(dframe.astype(cache["dtype"]), hop, cache["T"])
    return dx if cache["batched"] else dx[0]
