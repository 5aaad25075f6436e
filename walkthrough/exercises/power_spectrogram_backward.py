"""Exercise: the gradient of the power spectrogram with respect to the waveform.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/power_spectrogram_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.power_spectrogram_forward), for x of shape (N, T):

    frame t = x[t·hop : t·hop + n_fft],   y = frame · window,   X = rfft(y),   P = |X|² = Re(X)² + Im(X)²
    P: (N, n_fft//2 + 1, n_frames)

It stores cache = {"X": X (N, n_frames, n_fft//2+1) complex, "win": the padded window (n_fft,),
"T": T, "batched": whether x was 2-D, "n_fft": n, "hop_length": hop, "dtype": x.dtype}.
The helper lcn_np.ops.overlap_add(dframes, hop_length, T) sums per-frame gradients (N, n_frames, n_fft)
back onto a waveform gradient (N, T).

Your task: given dout = ∂L/∂P (same shape as P), return dx = ∂L/∂x of x's shape and dtype.
Three things to get right: the derivative of |X|² with respect to X, the adjoint of rfft (mind the DC
and Nyquist bins), and the window the frame was multiplied by before the FFT.
"""

from lcn_np.ops import overlap_add, power_spectrogram_forward  # noqa: F401


def power_spectrogram_backward(dout, cache):
    X, win, n, hop = cache["X"], cache["win"], cache["n_fft"], cache["hop_length"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write power_spectrogram_backward")
    # ---- END OF YOUR CODE ----
