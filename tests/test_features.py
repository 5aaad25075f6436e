"""Spectrogram images and the feature cache."""

import dataclasses

import numpy
import pytest
import soundfile

from lcn_np.data import features
from lcn_np.data.corpora import Item
from lcn_np.data.features import FeatureCache, FeatureConfig, features_for_items, resize_axis, spectrogram_image


def test_image_shape_range_dtype(rng):
    cfg = FeatureConfig(image_size=24)
    img = spectrogram_image(rng.standard_normal(9000).astype(numpy.float32) * 0.1, cfg)
    assert img.shape == (3, 24, 24) and img.dtype == numpy.float32
    assert -1 <= img.min() < 0 < img.max() <= 1 and numpy.array_equal(img[0], img[2])


def test_silent_and_short_waves_give_finite_images():
    cfg = FeatureConfig(image_size=16)
    for wave in (numpy.zeros(4000, numpy.float32), numpy.ones(10, numpy.float32) * 0.1):
        img = spectrogram_image(wave, cfg)
        assert numpy.isfinite(img).all() and img.shape == (3, 16, 16)
    assert numpy.all(spectrogram_image(numpy.zeros(4000, numpy.float32), cfg) == -1)


def test_low_frequencies_at_the_bottom():
    t = numpy.arange(16000) / 16000
    low = (0.5 * numpy.sin(2 * numpy.pi * 300 * t)).astype(numpy.float32)
    img = spectrogram_image(low, FeatureConfig(image_size=32))[0]
    assert img[-4:].mean() > img[:4].mean()


def test_whole_utterance_is_resized_not_cropped():
    quiet_then_loud = numpy.concatenate([numpy.zeros(16000), numpy.random.default_rng(0).standard_normal(16000)])
    img = spectrogram_image(quiet_then_loud.astype(numpy.float32), FeatureConfig(image_size=20))[0]
    assert img[:, :8].mean() < img[:, 12:].mean()          # the loud second half is in the right half


def test_resize_axis_is_linear_interpolation():
    a = numpy.array([[0.0, 10.0]])
    numpy.testing.assert_allclose(resize_axis(a, 5, 1), [[0, 2.5, 5, 7.5, 10]])


def test_cache_hits_skip_the_stft_and_invalidate_on_change(tmp_path, monkeypatch):
    wav = tmp_path / "a.wav"
    soundfile.write(wav, numpy.random.default_rng(0).standard_normal(4000) * 0.1, 16000)
    items = [Item(str(wav), 0)]
    cfg = FeatureConfig(image_size=16)
    calls = []
    real = features.spectrogram_image
    monkeypatch.setattr(features, "spectrogram_image", lambda w, c: calls.append(1) or real(w, c))
    X1, *_ = features_for_items(items, cfg, tmp_path / "cache")
    X2, _, _, report = features_for_items(items, cfg, tmp_path / "cache")
    assert len(calls) == 1 and report["cached"] == 1 and numpy.array_equal(X1, X2)
    features_for_items(items, FeatureConfig(image_size=20), tmp_path / "cache")
    assert len(calls) == 2                                   # other settings → other key
    soundfile.write(wav, numpy.random.default_rng(1).standard_normal(4100) * 0.1, 16000)
    features_for_items(items, cfg, tmp_path / "cache")
    assert len(calls) == 3                                   # the file changed → recomputed
    assert FeatureCache(tmp_path / "cache").path_for(wav, cfg).suffix == ".npy"


def test_unreadable_items_are_listed_not_fatal(tmp_path):
    good, bad = tmp_path / "good.wav", tmp_path / "bad.wav"
    soundfile.write(good, numpy.random.default_rng(0).standard_normal(4000) * 0.1, 16000)
    bad.write_text("nope")
    X, y, kept, report = features_for_items([Item(str(good), 1), Item(str(bad), 0)], FeatureConfig(image_size=16))
    assert X.shape == (1, 3, 16, 16) and y.tolist() == [1] and len(report["unreadable"]) == 1
    assert "bad.wav" in report["unreadable"][0][1]


def test_config_round_trip():
    cfg = FeatureConfig(image_size=48, top_db=70)
    assert FeatureConfig.from_dict(cfg.to_dict()) == cfg and cfg.key() != FeatureConfig().key()


def test_newer_settings_default_to_the_first_pipeline_and_keep_its_cache_key():
    """A checkpoint from before the recipe options has no such keys: it must rebuild the same images."""
    old = {"sample_rate": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "window": "hamming",
           "image_size": 64, "top_db": 80.0, "channels": 3}
    config = FeatureConfig.from_dict(old)
    assert (config.frequency, config.channels_from, config.time) == ("linear", "copies", "resize")
    import hashlib, json
    assert config.key() == hashlib.sha1(json.dumps(old, sort_keys=True).encode()).hexdigest()[:12]
    assert FeatureConfig(frequency="mel").key() != config.key()
    with pytest.raises(ValueError, match="time must be one of"):
        FeatureConfig(time="crop")


def test_mel_deltas_and_native_time(rng):
    wave = (rng.standard_normal(16000 * 2 + 123) * 0.1).astype(numpy.float32)
    config = FeatureConfig(image_size=40, frequency="mel", channels_from="deltas", time="windows", window_frames=50)
    img = spectrogram_image(wave, config)
    n_frames = 1 + (len(wave) - 512) // 160
    assert img.shape == (3, 40, n_frames) and img.dtype == numpy.float32 and config.input_shape == (40, 50)
    assert img.min() >= -1 and img.max() <= 1 and abs(img[1].mean()) < 0.1        # a delta channel is centred
    numpy.testing.assert_array_equal(config.silence(), [-1, 0, 0])


def test_windows_cover_every_frame_and_random_windows_pad_with_silence(rng):
    from lcn_np.data.features import random_windows, sliding_windows, utterance_windows
    silence = numpy.array([-1.0, 0.0, 0.0], numpy.float32)
    long_img = rng.standard_normal((3, 4, 23)).astype(numpy.float32)
    wins = sliding_windows(long_img, 10, silence)                      # starts 0, 5, 10 and the flush 13
    assert wins.shape == (4, 3, 4, 10)
    numpy.testing.assert_array_equal(wins[-1], long_img[:, :, 13:])
    numpy.testing.assert_array_equal(wins[1], long_img[:, :, 5:15])
    short = long_img[:, :, :6]
    padded = sliding_windows(short, 10, silence)[0]
    numpy.testing.assert_array_equal(padded[:, :, :6], short)
    assert (padded[0, :, 6:] == -1).all() and (padded[1:, :, 6:] == 0).all()
    all_wins, owner = utterance_windows([long_img, short], 10, silence)
    assert list(owner) == [0, 0, 0, 0, 1] and all_wins.shape == (5, 3, 4, 10)
    batch = random_windows([long_img, short], 10, numpy.random.default_rng(0), silence)
    assert batch.shape == (2, 3, 4, 10)
    starts = [s for s in range(14) if numpy.array_equal(batch[0], long_img[:, :, s:s + 10])]
    assert len(starts) == 1                                            # a true window of the long image
    start, = [s for s in range(5) if numpy.array_equal(batch[1][:, :, s:s + 6], short)]  # the short one, whole
    rest = numpy.delete(batch[1], range(start, start + 6), axis=2)                        # 4 columns of silence
    assert (rest[0] == -1).all() and (rest[1:] == 0).all()


def test_a_short_utterance_is_scored_at_evenly_spaced_offsets(rng):
    """offsets=K: a short image sits at K evenly spaced offsets from the start to flush right (each once, in
    silence); a long image's windows do not change; the setting is not part of the cache key."""
    from lcn_np.data.features import sliding_windows, utterance_windows
    silence = numpy.array([-1.0, 0.0, 0.0], numpy.float32)
    short = rng.standard_normal((3, 4, 6)).astype(numpy.float32)
    wins = sliding_windows(short, 11, silence, offsets=3)              # slack 5: offsets 0, 2 (2.5 rounded), 5
    assert wins.shape == (3, 3, 4, 11)
    for win, start in zip(wins, [0, 2, 5]):
        numpy.testing.assert_array_equal(win[:, :, start:start + 6], short)
        rest = numpy.delete(win, range(start, start + 6), axis=2)
        assert (rest[0] == -1).all() and (rest[1:] == 0).all()
    assert len(sliding_windows(short, 11, silence, offsets=9)) == 6    # never more than the 6 distinct offsets
    long_img = rng.standard_normal((3, 4, 23)).astype(numpy.float32)
    numpy.testing.assert_array_equal(sliding_windows(long_img, 10, silence, offsets=5),
                                     sliding_windows(long_img, 10, silence))
    _, owner = utterance_windows([long_img, short], 10, silence, offsets=3)
    assert list(owner) == [0, 0, 0, 0, 1, 1, 1]
    config = FeatureConfig(frequency="mel", time="windows")
    assert FeatureConfig.from_dict({k: v for k, v in config.to_dict().items() if k != "test_offsets"}).test_offsets == 1
    assert dataclasses.replace(config, test_offsets=9).key() == config.key()
    with pytest.raises(ValueError, match="test_offsets"):
        FeatureConfig(test_offsets=0)


def test_level_normalisation_keeps_loudness_and_utterance_normalisation_removes_it(rng):
    wave = (rng.standard_normal(8000) * 0.5).astype(numpy.float32)       # white noise: no bin near the floors
    by_utterance, by_level = FeatureConfig(image_size=16), FeatureConfig(image_size=16, normalize="level")
    numpy.testing.assert_allclose(spectrogram_image(wave, by_utterance), spectrogram_image(wave * 0.25, by_utterance),
                                  atol=1e-3)
    quiet, loud = spectrogram_image(wave * 0.25, by_level), spectrogram_image(wave, by_level)
    # 12 dB quieter = 12/80 of the [−1, 1] range lower, wherever neither is clipped
    inside = (quiet > -1) & (loud < 1) & (loud > loud.min())     # neither clipped nor at the top_db floor
    numpy.testing.assert_allclose((loud - quiet)[inside], 2 * 20 * numpy.log10(4) / 80, atol=1e-3)


def test_speaker_normalisation_removes_each_speakers_own_voice(rng):
    """Speaker B is speaker A with another average spectrum and spread (a per-band offset and gain): after
    normalisation the two speak alike, and each speaker's bands are centred on 0 with spread 1/3."""
    config = FeatureConfig(image_size=7, channels_from="deltas", time="windows")
    a = [stack_static(rng.uniform(-0.6, 0.4, (7, n))) for n in (11, 13, 9)]
    offset, gain = rng.uniform(-0.3, 0.3, (7, 1)), rng.uniform(0.6, 1.4, (7, 1))
    b = [stack_static(img[0] * gain + offset) for img in a]
    out = features.speaker_normalize(a + b, ["A"] * 3 + ["B"] * 3, config)
    for x, y in zip(out[:3], out[3:]):
        assert x.shape == y.shape == (3, 7, x.shape[2]) and x.dtype == numpy.float32
        numpy.testing.assert_allclose(x, y, atol=1e-5)                     # the voice is gone, the speech stays
    static = numpy.concatenate([x[0] for x in out[:3]], axis=1)
    numpy.testing.assert_allclose(static.mean(axis=1), 0, atol=1e-5)
    numpy.testing.assert_allclose(static.std(axis=1), 1 / 3, atol=1e-5)   # z/3: inside [−1, 1] for |z| ≤ 3
    # the delta channels are made again from the new static image, as for any image
    numpy.testing.assert_allclose(out[0][1:], features.stack_channels(out[0][0], config)[1:], atol=1e-6)
    square = features.speaker_normalize(numpy.stack([stack_static(rng.uniform(-1, 1, (7, 7))) for _ in range(4)]),
                                        ["A", "A", "B", "B"], FeatureConfig(image_size=7))
    assert square.shape == (4, 3, 7, 7) and (square[:, 0] == square[:, 1]).all()     # copies stay copies
    with pytest.raises(ValueError, match="who speaks each file"):
        features.speaker_normalize(a, ["A", None, "A"], config)
    silent = features.speaker_normalize([numpy.full((3, 7, 9), -1.0, numpy.float32)], ["S"], config)[0]
    assert numpy.isfinite(silent).all() and (silent == 0).all()          # a constant band: no division by 0
    assert features.speaker_normalize([], [], config) == []


def stack_static(static):
    return numpy.repeat(static[None].astype(numpy.float32), 3, axis=0)


def test_speaker_normalisation_reads_the_per_utterance_cache(tmp_path, rng):
    for i, speaker in enumerate(["s1", "s1", "s2"]):
        soundfile.write(tmp_path / f"{i}.wav", rng.standard_normal(4000) * 0.1 * (i + 1), 16000)
    items = [Item(str(tmp_path / f"{i}.wav"), 0, speaker=s) for i, s in enumerate(["s1", "s1", "s2"])]
    per_utterance = FeatureConfig(image_size=16)
    X, _, _, _ = features_for_items(items, per_utterance, tmp_path / "cache")
    Xs, _, kept, report = features_for_items(items, FeatureConfig(image_size=16, normalize="speaker"), tmp_path / "cache")
    assert report["cached"] == 3 and len(kept) == 3
    numpy.testing.assert_allclose(Xs, features.speaker_normalize(X, ["s1", "s1", "s2"], per_utterance), atol=0)
