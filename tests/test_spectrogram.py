"""Power spectrogram: gradient w.r.t. the waveform, forward against numpy.fft and scipy, errors."""

import numpy
import pytest
import scipy.signal

from lcn_np.gradcheck import assert_gradients_close
from lcn_np.ops import padded_window, power_spectrogram_backward, power_spectrogram_forward


@pytest.mark.parametrize("n_fft,hop,win,window", [(16, 5, 11, "hamming"), (15, 4, 15, "hann"), (12, 12, 8, "hamming")])
def test_gradient_batched(xp, rng, n_fft, hop, win, window):
    x = xp.asarray(rng.standard_normal((3, 53)))
    assert_gradients_close(power_spectrogram_forward, power_spectrogram_backward, [x], names=["x"],
                           kwargs=dict(n_fft=n_fft, hop_length=hop, win_length=win, window=window))


def test_gradient_single_waveform_with_defaults(rng):
    x = rng.standard_normal(700) * 0.1
    assert_gradients_close(power_spectrogram_forward, power_spectrogram_backward, [x], names=["x"], tol=1e-5)


def test_forward_matches_explicit_framing(rng):
    x = rng.standard_normal((2, 1000))
    P = power_spectrogram_forward(x)[0]
    n_frames = 1 + (1000 - 512) // 160
    assert P.shape == (2, 257, n_frames)
    w = numpy.zeros(512)
    w[56:456] = scipy.signal.get_window("hamming", 400, fftbins=True)
    for t in range(n_frames):
        frame = x[:, t * 160:t * 160 + 512] * w
        numpy.testing.assert_allclose(P[:, :, t], numpy.abs(numpy.fft.rfft(frame)) ** 2, rtol=1e-10)


def test_forward_matches_scipy_stft(rng):
    x = rng.standard_normal(2000)
    P = power_spectrogram_forward(x, n_fft=256, hop_length=100, win_length=256, window="hann")[0]
    _, _, Z = scipy.signal.stft(x, window="hann", nperseg=256, noverlap=156, nfft=256, boundary=None,
                                padded=False, scaling="spectrum")
    win_sum = scipy.signal.get_window("hann", 256).sum()
    numpy.testing.assert_allclose(P, numpy.abs(Z * win_sum) ** 2, rtol=1e-8, atol=1e-8)


def test_forward_matches_torch_stft(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3000)).astype(numpy.float32)
    win = torch.hamming_window(400, periodic=True)
    S = torch.stft(torch.from_numpy(x), 512, 160, 400, win, center=False, return_complex=True)
    numpy.testing.assert_allclose(power_spectrogram_forward(x)[0], S.abs().numpy() ** 2, rtol=1e-3, atol=1e-2)


def test_window_is_periodic_and_centred():
    w = padded_window("hamming", 400, 512)
    assert w[:56].sum() == 0 and w[456:].sum() == 0
    numpy.testing.assert_allclose(w[56:456], numpy.hamming(401)[:400])


def test_dtype_kept(rng):
    x = rng.standard_normal((2, 900)).astype(numpy.float32)
    P, cache = power_spectrogram_forward(x)
    assert P.dtype == numpy.float32
    assert power_spectrogram_backward(numpy.ones_like(P), cache).dtype == numpy.float32


def test_errors_name_the_problem(rng):
    with pytest.raises(ValueError, match="fewer than one frame"):
        power_spectrogram_forward(rng.standard_normal(100))
    with pytest.raises(ValueError, match="win_length"):
        power_spectrogram_forward(rng.standard_normal(1000), win_length=600)
    with pytest.raises(ValueError, match="window="):
        power_spectrogram_forward(rng.standard_normal(1000), window="nope")
    with pytest.raises(ValueError, match=r"x: expected a waveform"):
        power_spectrogram_forward(rng.standard_normal((2, 2, 1000)))
