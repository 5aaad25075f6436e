"""Reading audio: mono, resampling that is reported, clear errors that name the file."""

import numpy
import pytest
import soundfile

from lcn_np.data.audio import AudioError, audio_problems, load_audio


def tone(sr, seconds=0.5, channels=1):
    t = numpy.arange(int(sr * seconds)) / sr
    x = 0.5 * numpy.sin(2 * numpy.pi * 440 * t)
    return x if channels == 1 else numpy.stack([x, -0.2 * x], axis=1)


def test_stereo_44k_is_mixed_and_resampled_and_reported(tmp_path):
    path = tmp_path / "stereo.wav"
    soundfile.write(path, tone(44100, channels=2), 44100)
    info = {}
    wave = load_audio(path, 16000, info)
    assert wave.dtype == numpy.float32 and wave.ndim == 1
    assert abs(len(wave) - 8000) <= 1
    assert info == {"original_rate": 44100, "channels": 2, "resampled": True}
    spectrum = numpy.abs(numpy.fft.rfft(wave))
    assert abs(numpy.argmax(spectrum) * 16000 / len(wave) - 440) < 5       # still a 440 Hz tone
    assert abs(numpy.abs(wave).max() - 0.2) < 0.01                         # (0.5 − 0.1) / 2: the mean of the channels


@pytest.mark.parametrize("fmt,rate", [("wav", 8000), ("flac", 16000), ("ogg", 22050)])
def test_formats_and_rates(tmp_path, fmt, rate):
    path = tmp_path / f"a.{fmt}"
    soundfile.write(path, tone(rate), rate)
    info = {}
    wave = load_audio(path, 16000, info)
    assert abs(len(wave) - 8000) <= 2 and info["resampled"] == (rate != 16000)


def test_errors_name_the_file(tmp_path):
    with pytest.raises(AudioError, match="missing.wav: no such file"):
        load_audio(tmp_path / "missing.wav")
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio")
    with pytest.raises(AudioError, match="notes.wav: cannot be read as audio"):
        load_audio(text)
    empty = tmp_path / "empty.wav"
    soundfile.write(empty, numpy.zeros(0), 16000)
    with pytest.raises(AudioError, match="empty.wav: the file holds no samples"):
        load_audio(empty)
    bad = tmp_path / "nan.wav"
    soundfile.write(bad, numpy.array([0.1, numpy.nan, 0.2] * 100), 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav: the file contains NaN"):
        load_audio(bad)


def test_silent_and_short_are_warnings_not_errors():
    assert audio_problems(numpy.zeros(1000, numpy.float32), 16000, 512) == ["all silent"]
    problems = audio_problems(numpy.ones(10, numpy.float32), 16000, 512)
    assert len(problems) == 1 and "shorter than one frame" in problems[0]
    assert audio_problems(numpy.ones(600, numpy.float32), 16000, 512) == []
