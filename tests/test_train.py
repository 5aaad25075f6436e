"""The training CLI end to end on tiny corpora written into tmp_path — never needing ../shared."""

import json
import shlex
import subprocess
import sys

import numpy
import pytest
import soundfile

from lcn_np import train
from lcn_np.checkpoint import load_checkpoint
from lcn_np.data.synthetic import make_corpus, write_wavs

FAST = ["--image-size", "16", "--epochs", "2", "--batch-size", "8", "--no-cache"]


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    write_wavs(root, make_corpus(per_class=3, n_speakers=2, seed=0))
    return root


def run(args, capsys=None):
    if "--variant" not in args:          # the real-data default (lcn + ImageNet weights) needs a download
        args = args + ["--variant", "cn-dsc-dr"]
    code = train.main(args)
    out = capsys.readouterr() if capsys else None
    return code, out


def test_end_to_end_writes_metrics_checkpoints_and_split(corpus_dir, tmp_path, capsys):
    out = tmp_path / "run"
    code, text = run(["--data", str(corpus_dir), "--out", str(out), "--variant", "cn-dsc-dr"] + FAST, capsys)
    assert code == 0
    metrics = json.loads((out / "metrics.json").read_text())
    assert len(metrics["recall"]) == 6 and 0 <= metrics["ua"] <= 1 and len(metrics["history"]) == 2
    assert numpy.array(metrics["confusion"]).sum() == metrics["n_test"]
    state, optim, meta = load_checkpoint(out / "best.npz")
    assert meta["classes"] == ["angry", "fear", "happy", "neutral", "sad", "surprise"]
    assert meta["features"]["image_size"] == 16 and meta["model_config"]["variant"] == "cn-dsc-dr"
    assert (out / "last.npz").is_file() and len(json.loads((out / "split.json").read_text())["test"]) == 6
    assert "average" in text.out and "also occur in training" in text.out


@pytest.mark.parametrize("extra", [[], ["--ema", "0.9"]], ids=["plain", "ema"])
def test_interrupted_then_resumed_equals_uninterrupted(corpus_dir, tmp_path, capsys, extra):
    args = ["--data", str(corpus_dir), "--variant", "cn-dsc", "--seed", "3"] + FAST + extra
    run(args + ["--out", str(tmp_path / "a")], capsys)
    code, text = run(args + ["--out", str(tmp_path / "b"), "--stop-after-steps", "5"], capsys)
    assert code == 130 and "--resume" in text.out
    meta = load_checkpoint(tmp_path / "b" / "last.npz")[2]
    assert (meta["epoch"], meta["step"]) == (1, 2)           # 24 training items, 3 steps per epoch: inside epoch 2
    assert run(args + ["--out", str(tmp_path / "b"), "--resume"], capsys)[0] == 0
    (a, a_opt, _), (b, b_opt, _) = load_checkpoint(tmp_path / "a" / "last.npz"), load_checkpoint(tmp_path / "b" / "last.npz")
    for k in a:
        numpy.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert a_opt.keys() == b_opt.keys() and any(k.startswith("ema/") for k in a_opt) == bool(extra)
    for k in a_opt:
        numpy.testing.assert_array_equal(a_opt[k], b_opt[k], err_msg=k)


def test_ema_hands_over_the_averaged_weights(corpus_dir, tmp_path, capsys):
    out = tmp_path / "e"
    code, _ = run(["--data", str(corpus_dir), "--out", str(out), "--ema", "0.9", "--val-size", "0"] + FAST, capsys)
    best, _, _ = load_checkpoint(out / "best.npz")                 # no validation set: best = the last epoch
    last, opt, _ = load_checkpoint(out / "last.npz")
    assert code == 0 and best.keys() == last.keys()
    averaged = [k for k in last if f"ema/{k}" in opt]          # every trained weight, not BN's running stats
    assert len(averaged) > 10
    for k in averaged:
        avg = opt[f"ema/{k}"]
        numpy.testing.assert_array_equal(best[k], avg, err_msg=k)     # best.npz: the averages as weights
        assert not numpy.array_equal(last[k], avg)                    # last.npz: the raw weights, for resuming


def test_the_printed_resume_command_works_when_pasted(corpus_dir, tmp_path, capsys):
    """Ctrl-C prints what the user typed (`python -m lcn_np.train …`), not the module's file path."""
    args = ["--data", str(corpus_dir), "--variant", "cn-dsc", "--out", str(tmp_path / "c")] + FAST
    code, text = run(args + ["--stop-after-steps", "2"], capsys)
    line = text.out.split("Resume with:")[1].strip().splitlines()[0]
    assert line.startswith("python -m lcn_np.train ") and line.endswith(" --resume") and "stop-after" not in line
    pasted = shlex.split(line)
    done = subprocess.run([sys.executable] + pasted[1:], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "resuming from" in done.stdout and load_checkpoint(tmp_path / "c" / "last.npz")[2]["epoch"] == 2


def test_resume_refuses_another_variant(corpus_dir, tmp_path, capsys):
    args = ["--data", str(corpus_dir), "--out", str(tmp_path / "r")] + FAST
    run(args + ["--variant", "cn-dsc", "--stop-after-steps", "1"], capsys)
    code, text = run(args + ["--variant", "cn-dsc-dr", "--resume"], capsys)
    assert code == 2 and "was trained with variant = 'cn-dsc'" in text.err


def test_resume_refuses_other_feature_settings(corpus_dir, tmp_path, capsys):
    """A checkpoint's feature settings must match; one written before test_offsets existed counts as 1."""
    args = ["--data", str(corpus_dir), "--out", str(tmp_path / "r"), "--variant", "cn-dsc-dr", "--time", "windows",
            "--window-frames", "20", "--frequency", "mel"] + FAST
    run(args + ["--test-offsets", "1", "--stop-after-steps", "1"], capsys)
    code, text = run(args + ["--resume"], capsys)
    assert code == 2 and "test_offsets = 1, not 9" in text.err and "--test-offsets 1" in text.err
    code, text = run(args + ["--resume", "--test-offsets", "1", "--normalize", "level"], capsys)
    assert code == 2 and "normalize = 'utterance', not 'level'" in text.err
    code, text = run(args + ["--resume", "--test-offsets", "1", "--select-over", "3"], capsys)
    assert code == 2 and "select_over = 10, not 3" in text.err and "--select-over 10" in text.err
    code, text = run(args + ["--resume", "--test-offsets", "1"], capsys)
    assert code == 0 and "resuming from" in text.out


def test_unreadable_file_is_listed_and_skipped_or_stops_with_strict(corpus_dir, tmp_path, capsys):
    import shutil
    root = tmp_path / "c"
    shutil.copytree(corpus_dir, root)
    bad = root / "spk1" / "angry" / "broken.wav"
    bad.write_text("not audio")
    code, text = run(["--data", str(root), "--out", str(tmp_path / "o"), "--epochs", "1"] + FAST[:2] + FAST[4:], capsys)
    assert code == 0 and "1 unreadable file(s) skipped" in text.out and "broken.wav" in text.out
    code, text = run(["--data", str(root), "--out", str(tmp_path / "o2"), "--strict"] + FAST, capsys)
    assert code == 2 and "--strict" in text.err


def test_bad_arguments(tmp_path, capsys):
    code, text = run(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "o")] + FAST, capsys)
    assert code == 2 and "no such directory" in text.err
    with pytest.raises(SystemExit):
        train.parse_args(["--epochs", "0"])
    with pytest.raises(SystemExit):
        train.parse_args(["--variant", "resnet"])
    assert "--epochs must be a positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--routing-iterations", "0"])
    assert "--routing-iterations must be a positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--primary-stride", "0"])
    assert "--primary-stride must be a positive integer" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--channels", "0", "8"])
    assert "--channels must be two positive integers, got 0 8" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--variant", "lcn", "--channels", "16", "32"])
    assert "lcn has its own widths" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        train.parse_args(["--variant", "cnn", "--primary-kernel", "3"])
    assert "cnn has none" in capsys.readouterr().err
    for argv, message in [(["--variant", "cnn-gap", "--shared-capsules"], "cnn-gap has no capsules"),
                          (["--freq-shift", "-1"], "--freq-shift must be 0"),
                          (["--frontend-lr", "0"], "--frontend-lr must be positive"),
                          (["--window-frames", "0"], "--window-frames must be a positive integer"),
                          (["--freq-shift", "32"], "below --image-size (32)"),
                          (["--freq-shift", "2", "--no-augment"], "cannot be combined with --no-augment")]:
        with pytest.raises(SystemExit):
            train.parse_args(argv)
        assert message in capsys.readouterr().err


def test_resampled_and_short_files_are_reported(tmp_path, capsys):
    root = tmp_path / "folder"
    rng = numpy.random.default_rng(0)
    for label in ("calm", "loud"):
        (root / label).mkdir(parents=True)
        for i in range(3):
            soundfile.write(root / label / f"{i}.wav", rng.standard_normal(8000) * (0.05 if label == "calm" else 0.5), 8000)
    soundfile.write(root / "calm" / "short.wav", rng.standard_normal(100) * 0.1, 16000)
    code, text = run(["--data", str(root), "--out", str(tmp_path / "o"), "--test-size", "0.4"] + FAST, capsys)
    assert code == 0 and "resampled 6 file(s) from 8000 Hz" in text.out and "shorter than one frame" in text.out


def test_speaker_split_and_folds(corpus_dir, tmp_path, capsys):
    code, text = run(["--data", str(corpus_dir), "--out", str(tmp_path / "s"), "--split", "speaker"] + FAST, capsys)
    assert code == 0 and "test speakers also occur" not in text.out
    code, text = run(["--data", str(corpus_dir), "--out", str(tmp_path / "f"), "--folds", "3", "--epochs", "1"]
                     + FAST[:2] + FAST[4:], capsys)
    assert code == 0 and "mean ± std" in text.out
    assert len(json.loads((tmp_path / "f" / "metrics.json").read_text())["parts"]) == 3


def test_loso_runs_one_split_per_speaker_and_seeds_give_mean_and_std(corpus_dir, tmp_path, capsys):
    code, text = run(["--data", str(corpus_dir), "--out", str(tmp_path / "l"), "--split", "loso", "--epochs", "1"]
                     + FAST[:2] + FAST[4:], capsys)
    speakers = sorted(d.name for d in corpus_dir.iterdir())
    assert code == 0 and f"speaker-{speakers[1]}" in text.out and "mean ± std" in text.out
    metrics = json.loads((tmp_path / "l" / "metrics.json").read_text())
    assert [p["split"] for p in metrics["parts"]] == [f"speaker-{s}" for s in speakers] and "ua_std" in metrics
    for part in metrics["parts"]:                      # each held-out speaker is the whole test set
        split = json.loads((tmp_path / "l" / part["split"] / "split.json").read_text())
        assert all(f"/{part['split'][8:]}/" in f for f in split["test"])
        assert not any(f"/{part['split'][8:]}/" in f for f in split["train"] + split["val"])
    code, text = run(["--data", str(corpus_dir), "--out", str(tmp_path / "m"), "--seeds", "0", "1", "--epochs", "1"]
                     + FAST[:2] + FAST[4:], capsys)
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert code == 0 and metrics["seeds"] == [0, 1] and "seed 1" in text.out
    assert (tmp_path / "m" / "seed1" / "best.npz").is_file()
    uas = [json.loads((tmp_path / "m" / f"seed{s}" / "metrics.json").read_text())["ua"] for s in (0, 1)]
    assert metrics["ua"] == pytest.approx(numpy.mean(uas)) and metrics["ua_std"] == pytest.approx(numpy.std(uas))


def test_selection_score_is_the_mean_validation_ua_of_the_last_w_epochs():
    history = [{"val_ua": v} for v in (0.25, 0.5, 0.75, 0.375)]
    assert train.selection_score(history, 1) == 0.375                      # the epoch's own figure
    assert train.selection_score(history, 2) == pytest.approx((0.75 + 0.375) / 2)
    assert train.selection_score(history, 3) == pytest.approx((0.5 + 0.75 + 0.375) / 3)
    assert train.selection_score(history[:2], 5) == pytest.approx(0.375)   # fewer epochs than W: all of them


def test_select_over_chooses_the_best_stretch_of_epochs(corpus_dir, tmp_path, capsys, monkeypatch):
    """Scripted validation UAs 0.2, 0.9, 0.1, 0.6, 0.6: the single best epoch is the 2nd; averaged over two
    epochs (0.2, 0.55, 0.5, 0.35, 0.6) the 5th."""
    scripted, calls, real = [0.2, 0.9, 0.1, 0.6, 0.6], [], train.evaluate

    def evaluate(*a):                      # the first five calls are the epochs' validation, then the test set
        result = real(*a)
        calls.append(1)
        return dict(result, ua=scripted[len(calls) - 1]) if len(calls) <= len(scripted) else result
    monkeypatch.setattr(train, "evaluate", evaluate)
    for over, expected in ((1, 2), (2, 5)):
        calls.clear()
        out = tmp_path / f"w{over}"
        code, printed = run(["--data", str(corpus_dir), "--out", str(out), "--epochs", "5", "--select-over", str(over)]
                            + FAST[:2] + FAST[4:], capsys)
        metrics = json.loads((out / "metrics.json").read_text())
        assert code == 0 and metrics["selected_epoch"] == expected == load_checkpoint(out / "best.npz")[2]["best"]["epoch"]
        assert metrics["val_ua"] == scripted[expected - 1] and metrics["provenance"]["args"]["select_over"] == over
        assert ("averaged over 2 epochs" in printed.out) == (over == 2)


def test_best_is_chosen_on_validation_and_metrics_record_their_provenance(corpus_dir, tmp_path, capsys):
    out = tmp_path / "v"
    code, _ = run(["--data", str(corpus_dir), "--out", str(out), "--epochs", "3"] + FAST[:2] + FAST[4:], capsys)
    metrics = json.loads((out / "metrics.json").read_text())
    split = json.loads((out / "split.json").read_text())
    assert code == 0 and len(split["val"]) == metrics["n_val"] == 6
    assert not set(split["val"]) & set(split["test"]) and not set(split["val"]) & set(split["train"])
    history = metrics["history"]
    best_val = max(h["val_ua"] for h in history)
    chosen = max(h["epoch"] for h in history if h["val_ua"] == best_val)      # the latest of equals
    assert metrics["selected_epoch"] == chosen == load_checkpoint(out / "best.npz")[2]["best"]["epoch"]
    assert metrics["final"]["ua"] == pytest.approx(history[-1]["test_ua"])
    prov = metrics["provenance"]
    assert prov["command"].startswith("python -m lcn_np.train --data") and prov["numpy"] == numpy.__version__
    assert prov["args"]["val_size"] == 0.1 and prov["lcn_np"] and "python" in prov


def test_nan_stops_with_a_clear_message(corpus_dir, tmp_path, capsys, monkeypatch):
    from lcn_np import model, ops

    def poisoned(lengths, labels, **kw):
        return ops.margin_loss_forward(lengths * numpy.nan, labels, **kw)
    monkeypatch.setitem(model.LOSSES, "margin", (poisoned, ops.margin_loss_backward))
    code, text = run(["--data", str(corpus_dir), "--out", str(tmp_path / "n")] + FAST, capsys)
    assert code == 2 and "step 1" in text.err and "lower --lr" in text.err


def test_freeze_frontend_keeps_the_front_end_for_n_epochs(corpus_dir, tmp_path, capsys):
    from lcn_np.model import build
    args = ["--data", str(corpus_dir), "--variant", "lcn", "--seed", "2", "--image-size", "32", "--batch-size", "8",
            "--no-cache", "--epochs", "1", "--pretrained", "none", "--time", "resize", "--n-blocks", "2"]
    assert run(args + ["--out", str(tmp_path / "frozen"), "--freeze-frontend", "1"], capsys)[0] == 0
    assert run(args + ["--out", str(tmp_path / "free")], capsys)[0] == 0
    initial = build("lcn", 6, 32, seed=2, n_blocks=2).state_dict()
    frozen = load_checkpoint(tmp_path / "frozen" / "last.npz")[0]
    free = load_checkpoint(tmp_path / "free" / "last.npz")[0]
    key = "frontend.conv_pw_1.w"
    numpy.testing.assert_array_equal(frozen[key], initial[key])
    assert not numpy.array_equal(free[key], initial[key])
    assert not numpy.array_equal(frozen["digit.w"], initial["digit.w"])


def test_the_real_data_recipe_and_its_defaults():
    """--data with no other flag: the lcn with ImageNet weights on log-mel windows with Δ/ΔΔ channels;
    the synthetic default keeps the first pipeline."""
    real = train.parse_args(["--data", "somewhere"])
    assert (real.variant, real.pretrained, real.frequency, real.channels_from, real.time) == \
        ("lcn", "mobilenet_v1_0.25", "mel", "deltas", "windows")
    assert (real.epochs, real.n_blocks, real.image_size, real.val_size) == (90, 5, 64, 0.1)
    pm = train.parse_args(["--data", "somewhere", "--variant", "cn-dsc-pm"])
    assert (pm.epochs, pm.n_blocks, pm.time) == (60, 5, "windows")
    table = train.parse_args(["--data", "somewhere", "--variant", "cn-dsc-dr"])
    assert (table.epochs, table.n_blocks, table.pretrained, table.time, table.frequency) == \
        (30, None, None, "resize", "linear")
    assert train.parse_args(["--data", "x", "--pretrained", "none"]).pretrained is None
    synthetic = train.parse_args([])
    assert (synthetic.variant, synthetic.image_size, synthetic.epochs, synthetic.time) == ("cn-dsc-dr", 32, 25, "resize")


def test_a_missing_default_weight_file_says_what_to_do(corpus_dir, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LCN_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr("lcn_np.weights.urllib.request.urlopen", lambda *a, **k: (_ for _ in ()).throw(OSError("offline")))
    code = train.main(["--data", str(corpus_dir), "--out", str(tmp_path / "o"), "--epochs", "1", "--no-cache"])
    err = capsys.readouterr().err
    assert code == 2 and "mobilenet_v1_0.25" in err and "--pretrained" in err and "offline" in err


def test_mixup_mixes_images_and_weights_the_two_losses():
    from lcn_np.ops import margin_loss_forward
    rng = numpy.random.default_rng(5)
    xb, yb = rng.normal(size=(7, 3, 5, 9)).astype("float32"), rng.integers(0, 6, 7)
    mixed, targets = train.mixup(xb, yb, numpy.random.default_rng(1), 0.4)
    (lam, y1), (rest, y2) = targets
    perm = numpy.random.default_rng(1)
    lam_again, order = perm.beta(0.4, 0.4), perm.permutation(7)
    assert lam == lam_again and rest == pytest.approx(1 - lam) and mixed.dtype == xb.dtype
    numpy.testing.assert_allclose(mixed, lam * xb + (1 - lam) * xb[order], rtol=1e-6)
    numpy.testing.assert_array_equal(y2, yb[order])
    # the weighted sum of the two margin losses = the margin loss on the mixed one-hot targets
    lengths = rng.uniform(0.05, 0.95, (7, 6))
    T = lam * numpy.eye(6)[y1] + (1 - lam) * numpy.eye(6)[y2]
    soft = (T * (0.9 - lengths).clip(0) ** 2 + 0.5 * (1 - T) * (lengths - 0.1).clip(0) ** 2).sum() / 7
    both = lam * margin_loss_forward(lengths, y1)[0] + (1 - lam) * margin_loss_forward(lengths, y2)[0]
    assert both == pytest.approx(soft)


def test_mixup_run_trains_and_is_reproducible(corpus_dir, tmp_path, capsys):
    args = ["--data", str(corpus_dir), "--mixup", "0.4", "--seed", "2"] + FAST
    assert run(args + ["--out", str(tmp_path / "a")], capsys)[0] == 0
    assert run(args + ["--out", str(tmp_path / "b")], capsys)[0] == 0
    a, b = load_checkpoint(tmp_path / "a" / "last.npz")[0], load_checkpoint(tmp_path / "b" / "last.npz")[0]
    for k in a:
        numpy.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_speed_perturbation_scales_duration_and_frequency():
    from lcn_np.data.features import speed_perturb
    sr, f0 = 16000, 441.0
    t = numpy.arange(sr) / sr                                  # one second of a 441 Hz tone
    wave = numpy.sin(2 * numpy.pi * f0 * t).astype(numpy.float32)
    for factor in (0.9, 1.1):
        fast = speed_perturb(wave, factor)
        assert fast.dtype == numpy.float32 and abs(len(fast) - sr / factor) <= 1
        spectrum = numpy.abs(numpy.fft.rfft(fast * numpy.hanning(len(fast))))
        peak = numpy.argmax(spectrum) * sr / len(fast)
        assert peak == pytest.approx(f0 * factor, abs=2.0)


def test_training_batch_draws_from_the_speed_versions():
    from lcn_np.data.features import FeatureConfig
    config = FeatureConfig(image_size=4, time="windows", window_frames=3, channels_from="deltas", frequency="mel")
    X = [numpy.zeros((3, 4, 5), numpy.float32) for _ in range(40)]
    versions = [[numpy.full((3, 4, 5), k, numpy.float32) for _ in range(40)] for k in (1, 2)]
    args = train.parse_args(["--no-augment"])
    xb = train.training_batch(X, numpy.arange(40), numpy.random.default_rng(0), args, config, versions)
    drawn = set(numpy.unique(xb[:, 0, 0, 0]).tolist())
    assert drawn == {0.0, 1.0, 2.0}                            # the original and both versions appear
    plain = train.training_batch(X, numpy.arange(40), numpy.random.default_rng(0), args, config)
    assert not plain.any()


def test_freq_shift_is_off_by_default_and_moves_the_training_images():
    from lcn_np.data.features import FeatureConfig
    config = FeatureConfig(image_size=9, time="windows", window_frames=5, channels_from="deltas", frequency="mel")
    X = [numpy.random.default_rng(i).uniform(0, 1, (3, 9, 12)).astype(numpy.float32) for i in range(30)]
    batch = numpy.arange(30)
    default = train.training_batch(X, batch, numpy.random.default_rng(4), train.parse_args([]), config)
    again = train.training_batch(X, batch, numpy.random.default_rng(4), train.parse_args(["--freq-shift", "0"]), config)
    shifted = train.training_batch(X, batch, numpy.random.default_rng(4), train.parse_args(["--freq-shift", "2"]), config)
    assert numpy.array_equal(default, again) and not numpy.array_equal(default, shifted)


def test_speed_perturbed_run_trains_reproducibly_and_caches_the_versions(corpus_dir, tmp_path, capsys):
    args = ["--data", str(corpus_dir), "--speed-perturb", "0.9", "1.1", "--seed", "1",
            "--cache-dir", str(tmp_path / "cache")] + [a for a in FAST if a != "--no-cache"]
    code, text = run(args + ["--out", str(tmp_path / "a")], capsys)
    assert code == 0 and "speed 0.9" in text.out and "speed 1.1" in text.out
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 3 * 36     # original + two speeds
    assert run(args + ["--out", str(tmp_path / "b")], capsys)[0] == 0   # now from the cache
    a, b = load_checkpoint(tmp_path / "a" / "last.npz")[0], load_checkpoint(tmp_path / "b" / "last.npz")[0]
    for k in a:
        numpy.testing.assert_array_equal(a[k], b[k], err_msg=k)
    with pytest.raises(SystemExit):
        train.parse_args(["--data", str(corpus_dir), "--speed-perturb", "1.0"])
    assert "--speed-perturb factors must lie in [0.5, 2] and differ from 1" in capsys.readouterr().err


def test_test_set_is_scored_after_the_last_epoch_unless_asked_and_training_is_the_same(corpus_dir, tmp_path):
    runs = {}
    for every in (0, 2):
        out = tmp_path / f"t{every}"
        code, _ = run(["--data", str(corpus_dir), "--out", str(out), "--epochs", "3", "--test-every", str(every)]
                      + FAST[:2] + FAST[4:])
        assert code == 0
        runs[every] = (json.loads((out / "metrics.json").read_text()), load_checkpoint(out / "last.npz")[0])
    scored = {every: [h["test_ua"] is not None for h in m["history"]] for every, (m, _) in runs.items()}
    assert scored == {0: [False, False, True], 2: [False, True, True]}
    assert all(h["val_ua"] is not None for h in runs[0][0]["history"])
    (m0, w0), (m2, w2) = runs[0], runs[2]
    assert all(numpy.array_equal(w0[k], w2[k]) for k in w0)                # scoring the test set changes nothing
    assert m0["ua"] == m2["ua"] and m0["final"] == m2["final"] and m0["selected_epoch"] == m2["selected_epoch"]
    with pytest.raises(SystemExit):
        train.parse_args(["--test-every", "-1"])


def test_test_offsets_default_to_nine_with_windows_and_need_windows():
    """The recipe scores a short utterance at 9 offsets whenever the network sees windows; 1 otherwise."""
    for argv, offsets in [(["--data", "d"], 9), (["--data", "d", "--variant", "cn-dsc-dr"], 1), ([], 1),
                          (["--time", "windows"], 9), (["--data", "d", "--test-offsets", "3"], 3)]:
        assert train.parse_args(argv).test_offsets == offsets, argv
    for argv in (["--data", "d", "--test-offsets", "0"], ["--data", "d", "--variant", "cn-dsc-dr", "--test-offsets", "3"]):
        with pytest.raises(SystemExit):
            train.parse_args(argv)


def test_window_defaults_follow_the_variant():
    """The recipe's 288-frame windows for the MobileNet variants on real data; 128 elsewhere, unless given."""
    for argv, frames in [(["--data", "d"], 288), (["--data", "d", "--variant", "cn-dsc-pm"], 288),
                         (["--data", "d", "--variant", "cn-dsc-dr"], 128), ([], 128),
                         (["--data", "d", "--window-frames", "200"], 200)]:
        assert train.parse_args(argv).window_frames == frames, argv


def test_frontend_lr_scales_the_front_end_only():
    from lcn_np.model import build
    model = build("lcn", 6, (16, 24), n_blocks=2)
    opt = train.optimizer_for(train.parse_args(["--frontend-lr", "0.1"]), model)
    names = list(model.parameters())
    front = [n for n in names if n.startswith("frontend.")]
    assert front and len(front) < len(names)
    assert all(opt.lr_for(n) == pytest.approx(0.1 * opt.lr) for n in front)
    assert all(opt.lr_for(n) == opt.lr for n in names if n not in front)
    assert train.optimizer_for(train.parse_args([]), model).lr_scale == {}
