"""The power spectrogram |STFT|² and its exact gradient with respect to the waveform.

Framing (no centring, as in the paper's pipeline)::

    frame t = x[t·hop : t·hop + n_fft],    n_frames = 1 + (T − n_fft) // hop

Window: the *periodic* window of length ``win_length`` (``scipy.signal.get_window`` convention),
zero-padded on both sides to ``n_fft`` with ``(n_fft − win_length)//2`` zeros on the left — what
torch.stft and librosa do — so that the window sits in the middle of the FFT frame.

Forward, for each frame y = frame · window::

    X[k] = Σ_t y[t] e^{−2πi k t / n},   P[k] = |X[k]|² = Re(X)² + Im(X)²,   k = 0 … n/2

Backward: for L with ∂L/∂P[k] = g[k],

    ∂L/∂y[t] = Σ_k g[k] · 2 Re(conj(X[k]) e^{−2πi k t/n}) = 2 Re Σ_k (g[k] X[k]) e^{+2πi k t/n}

which is ``n · irfft(Z)`` with Z = g·X, except that irfft counts the bins 1 … n/2−1 twice (once for
their mirror image) and DC and Nyquist once: so DC and Nyquist of Z are doubled first. Then
∂L/∂frame = window · ∂L/∂y, and overlapping frames add their gradients back onto the waveform
(overlap-add). Samples after the last full frame get zero gradient.
"""

import numpy
import scipy.signal

from ..backend import array_module
from ..parallel import for_chunks, join
from .checks import expect_float

_window_cache = {}


def padded_window(window, win_length, n_fft):
    """The periodic ``window`` of ``win_length`` samples, zero-padded on both sides to ``n_fft`` (NumPy)."""
    if win_length > n_fft:
        raise ValueError(f"win_length ({win_length}) must not exceed n_fft ({n_fft})")
    key = (window, win_length, n_fft)
    if key not in _window_cache:
        try:
            w = scipy.signal.get_window(window, win_length, fftbins=True)  # fftbins=True: periodic
        except ValueError as exc:
            raise ValueError(f"window={window!r} is not a window scipy.signal.get_window knows "
                             f"(try 'hamming' or 'hann'): {exc}") from None
        left = (n_fft - win_length) // 2
        full = numpy.zeros(n_fft)
        full[left:left + win_length] = w
        _window_cache[key] = full
    return _window_cache[key]


def frame(x, n_fft, hop_length):
    """Overlapping frames of x (N, T) as a strided view (N, n_frames, n_fft) — no copy."""
    xp = array_module(x)
    n_frames = 1 + (x.shape[-1] - n_fft) // hop_length
    s_n, s_t = x.strides
    return xp.lib.stride_tricks.as_strided(x, shape=(x.shape[0], n_frames, n_fft),
                                           strides=(s_n, hop_length * s_t, s_t))


def power_spectrogram_forward(x, n_fft=512, hop_length=160, win_length=400, window="hamming"):
    """Power spectrogram |rfft(frame · window)|² of a waveform.

    Inputs:
    - x: (T,) or (N, T) waveform, float32 or float64
    - n_fft, hop_length, win_length, window: as in librosa / torch.stft (no centring)
    Returns (P, cache) with P of shape (n_fft//2 + 1, n_frames), or (N, n_fft//2 + 1, n_frames).
    """
    expect_float("x", x)
    if x.ndim not in (1, 2):
        raise ValueError(f"x: expected a waveform of shape (T,) or (N, T), got shape {x.shape}")
    if hop_length < 1:
        raise ValueError(f"hop_length must be a positive number of samples, got {hop_length}")
    if x.shape[-1] < n_fft:
        raise ValueError(f"x: the waveform has {x.shape[-1]} samples, fewer than one frame (n_fft = {n_fft}); "
                         "zero-pad it to at least n_fft samples first")
    xp = array_module(x)
    batched = x.ndim == 2
    x2 = xp.ascontiguousarray(x if batched else x[None])
    win = xp.asarray(padded_window(window, win_length, n_fft), dtype=x.dtype)

    def part(lo, hi):                                           # each waveform on its own: chunks of the batch
        return spectrum(x2[lo:hi], win, hop_length)
    X, P = join(for_chunks(x2.shape[0], part, xp, work=x2.size * 4 * n_fft // hop_length))   # (N, F, K) each
    P = P.transpose(0, 2, 1)                                    # (N, K, F)
    cache = {"X": X, "win": win, "T": x.shape[-1], "batched": batched,
             "n_fft": n_fft, "hop_length": hop_length, "dtype": x.dtype}
    return (P if batched else P[0]), cache


def spectrum(x, win, hop_length):
    """x (N, T) → X = rfft(frame · window) (N, F, K) complex and |X|² (N, F, K) in x's dtype."""
    xp = array_module(x)
    n_fft = win.shape[0]
    frames = frame(x, n_fft, hop_length) * win                  # (N, F, n_fft), a copy
    X = xp.fft.rfft(frames, n=n_fft, axis=-1)                   # (N, F, K) complex
    return X, (X.real ** 2 + X.imag ** 2).astype(x.dtype)


def overlap_add(dframes, hop_length, T):
    """Sum overlapping frame gradients (N, F, n_fft) back onto a waveform gradient (N, T).

    The frame is padded to K·hop samples (K = ceil(n_fft / hop)) and cut into K chunks of one hop; chunk
    k of frame t lands on hop-slot t + k, so K slice-additions do the whole overlap-add (no loop over frames).
    """
    xp = array_module(dframes)
    N, F, n_fft = dframes.shape
    K = -(-n_fft // hop_length)
    padded = xp.zeros((N, F, K * hop_length), dtype=dframes.dtype)
    padded[:, :, :n_fft] = dframes
    chunks = padded.reshape(N, F, K, hop_length)
    slots = xp.zeros((N, F + K - 1, hop_length), dtype=dframes.dtype)
    for k in range(K):
        slots[:, k:k + F] += chunks[:, :, k]
    dx = xp.zeros((N, max(T, slots.shape[1] * hop_length)), dtype=dframes.dtype)
    dx[:, :slots.shape[1] * hop_length] = slots.reshape(N, -1)
    return dx[:, :T]


def power_spectrogram_backward(dout, cache):
    """Gradient of the power spectrogram with respect to the waveform (see the module docstring).

    dout: (n_fft//2 + 1, n_frames) or (N, n_fft//2 + 1, n_frames)  →  dx: (T,) or (N, T)
    """
    xp = array_module(dout)
    n = cache["n_fft"]
    g = dout if cache["batched"] else dout[None]
    dx = xp.empty((g.shape[0], cache["T"]), dtype=cache["dtype"])

    def part(lo, hi):                                           # each waveform on its own: chunks of the batch
        Z = g[lo:hi].transpose(0, 2, 1) * cache["X"][lo:hi]     # (N, F, K): g·X
        Z[..., 0] *= 2                                          # DC appears once in rfft's output
        if n % 2 == 0:
            Z[..., -1] *= 2                                     # so does Nyquist, for even n
        dy = n * xp.fft.irfft(Z, n=n, axis=-1)                  # ∂L/∂(frame·window)
        dframes = (dy * cache["win"]).astype(cache["dtype"])
        dx[lo:hi] = overlap_add(dframes, cache["hop_length"], cache["T"])
    for_chunks(g.shape[0], part, xp, work=dx.size * 4 * n // cache["hop_length"])
    return dx if cache["batched"] else dx[0]
