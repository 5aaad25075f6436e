"""``python -m lcn_np.train``: train a variant on a corpus and print the paper's Table 3 row.

With no ``--data`` it trains on the built-in *synthetic* corpus (:mod:`lcn_np.data.synthetic`). With
``--data DIR`` it reads CASIA, EmoDB, RAVDESS or a folder per class. Always:

    AdamW (decoupled weight decay 1e-2), one-cycle learning rate up to 2e-3, batch 16, SpecAugment masks,
    margin loss (cross-entropy for `cnn` and `cnn-gap`); 10 % of the training part for validation.

What is not given on the command line comes from a recipe (``RECIPES``):
- synthetic corpus: 32×32 images of linear-frequency spectrograms, the whole utterance resized, three
  copies as channels, random time shifts, 25 epochs — the first pipeline, and quick;
- real speech (``--data``): the `lcn` with ImageNet weights (``--pretrained mobilenet_v1_0.25``) and 5
  MobileNet blocks, 64 log-mel bands at the native 10 ms hop, static/Δ/ΔΔ channels, random windows of 288
  frames (2.88 s: most utterances whole) in training and the mean over all windows of an utterance at
  test (a short one placed at 9 offsets in its window), 90 epochs, best.npz on the validation UA of ten
  epochs (the same for `cn-dsc-pm`, with 60 epochs); the other variants keep the first pipeline (64×64,
  linear bins, the whole utterance resized, 30 epochs), on which they learn.

Outputs in ``--out DIR``: ``best.npz`` (the epoch with the best validation UA, averaged over
``--select-over`` epochs) and ``last.npz`` (checkpoints with class names and feature settings inside),
``split.json`` (the file lists), ``metrics.json`` (test figures of best.npz and of the last epoch,
history, provenance). Ctrl-C saves ``last.npz`` and prints the command that resumes; ``--resume``
continues bit-for-bit where it stopped (on the CPU).
"""

import argparse
import json
import pathlib
import shlex
import sys
import time

import numpy

from . import backend
from .checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from .data.audio import AudioError
from .data.augment import augment
from .data.corpora import load_corpus
from .data.features import (FeatureConfig, default_cache_dir, features_for_items, random_windows,
                            speaker_normalize, spectrogram_image)
from .data.splits import (carve_validation, leakage_report, loso_splits, speaker_split, stratified_kfold,
                          stratified_split, write_split)
from .layers import Dropout
from .metrics import confusion_text, mean_std_table, scores, table3_row
from .model import CLASSIFIERS, PRETRAINED_VARIANTS, PRIMARY_DEFAULTS, VARIANTS, build
from .optim import clip_grad_norm, lr_at, make_optimizer
from .predict import utterance_scores
from .progress import Progress


# The defaults, for the settings not given on the command line. The synthetic corpus keeps the first
# pipeline (fast: the default run ends in about two minutes); real speech gets the recipe chosen on
# CASIA's validation splits (walkthrough chapter 11, "Finding the recipe").
def _windows(if_so, otherwise):
    """A recipe value that depends on whether the network sees windows (``--time windows``)."""
    return lambda args: if_so if args.time == "windows" else otherwise


def _mobilenet(if_so, otherwise):
    """A recipe value that depends on whether the variant has the MobileNet front end."""
    return lambda args: if_so if args.variant in PRETRAINED_VARIANTS else otherwise


def _epochs(args):
    """90 for the `lcn` (chapter 11: 90 against 60 chosen on validation, round 2's twelfth session),
    60 for `cn-dsc-pm` (not screened at 90), 30 for the first pipeline."""
    return {"lcn": 90, "cn-dsc-pm": 60}.get(args.variant, 30)


RECIPES = {
    "synthetic": {"variant": "cn-dsc-dr", "image_size": 32, "epochs": 25, "frequency": "linear",
                  "channels_from": "copies", "time": "resize", "window_frames": 128,
                  "test_offsets": _windows(9, 1), "select_over": 1},
    # The MobileNet variants: log-mel windows at the native hop, long enough for most utterances (chapter
    # 11's search). The others keep the first pipeline: full-width cn-dsc-dr on the recipe's windows
    # (squash-aware primary init) tested below the lcn on the same split after six times its training
    # time (chapter 11, last section).
    "real": {"variant": "lcn", "image_size": 64,
             "frequency": _mobilenet("mel", "linear"), "channels_from": _mobilenet("deltas", "copies"),
             "time": _mobilenet("windows", "resize"), "epochs": _epochs,
             "n_blocks": _mobilenet(5, None), "pretrained": _mobilenet("mobilenet_v1_0.25", None),
             "window_frames": _mobilenet(288, 128), "test_offsets": _windows(9, 1),
             "select_over": _windows(10, 1)},        # chapter 11, "Choosing the epoch"
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m lcn_np.train", description=__doc__.replace("``", "`"),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="corpus folder (default: the built-in synthetic corpus)")
    p.add_argument("--dataset", default="auto", choices=["auto", "casia", "emodb", "ravdess", "folder"])
    p.add_argument("--variant", choices=VARIANTS,
                   help="default: cn-dsc-dr on the synthetic corpus, lcn (with ImageNet weights) on --data")
    p.add_argument("--image-size", type=int, help="S of the S×S input, or the rows (frequency) with --time windows "
                                                  "(default 32 on the synthetic corpus, 64 otherwise)")
    p.add_argument("--frequency", choices=["linear", "mel"],
                   help="linear STFT bins resampled to S rows, or S log-mel bands")
    p.add_argument("--channels-from", choices=["copies", "deltas"],
                   help="the 3 image channels: copies of the spectrogram, or static, delta, delta-delta")
    p.add_argument("--time", choices=["resize", "windows"],
                   help="resize the whole utterance to S columns, or keep the 10 ms frames: random windows of "
                        "--window-frames in training, the mean over all windows of an utterance at test")
    p.add_argument("--window-frames", type=int, default=None,
                   help="columns of a window with --time windows (default 288 for cn-dsc-pm and lcn on --data, else 128)")
    p.add_argument("--test-offsets", type=int, default=None, metavar="K",
                   help="with --time windows: score an utterance shorter than a window at K evenly spaced offsets "
                        "in it and average (training places it at a random offset); 1: at the start only "
                        "(default 9 with windows)")
    p.add_argument("--normalize", default="utterance", choices=["utterance", "level", "speaker"],
                   help="map each utterance's own dB range to [-1, 1], or a fixed range (keeps loudness), or "
                        "as utterance and then each band z-scored over all of the speaker's utterances (needs a "
                        "corpus that names its speakers; for speaker-independent tests such as --split loso)")
    p.add_argument("--n-blocks", type=int, default=None,
                   help="MobileNet blocks in the front end of cn-dsc-pm / lcn (default: chosen by image size)")
    p.add_argument("--channels", type=int, nargs=2, default=None, metavar=("C1", "C2"),
                   help="widths of the Table 1 front end (cn, cn-dsc, cn-dsc-dr, cnn-gap; default 64 128)")
    p.add_argument("--primary-kernel", type=int, default=None, metavar="K",
                   help="kernel of the primary-capsule convolution (default 9, shrunk to the map when larger)")
    p.add_argument("--primary-stride", type=int, default=None, metavar="S",
                   help="stride of the primary-capsule convolution (default 2)")
    p.add_argument("--shared-capsules", action="store_true",
                   help="one capsule transformation W per primary-capsule type, shared over its grid positions "
                        "(time, and frequency where the map has more than one row), instead of one per input "
                        "capsule: the head then takes windows of any length, with far fewer weights")
    p.add_argument("--routing-iterations", type=int, default=3,
                   help="routing iterations of the emotion capsules (the paper's best: 3)")
    p.add_argument("--epochs", type=int, help="default: from the recipe above")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3, help="peak learning rate")
    p.add_argument("--optimizer", default="adamw", choices=["sgd", "adam", "adamw"])
    p.add_argument("--weight-decay", type=float, default=1e-2)
    p.add_argument("--ema", type=float, default=0.0, metavar="BETA",
                   help="evaluate and hand over a running average of the weights, θ̄ ← βθ̄ + (1−β)θ after every "
                        "step (e.g. 0.995; 0: the weights as they are)")
    p.add_argument("--schedule", default="onecycle", choices=["onecycle", "cosine", "constant"])
    p.add_argument("--seed", type=int, default=0, help="the split, the initialisation and every random step")
    p.add_argument("--seeds", type=int, nargs="+", metavar="SEED",
                   help="run once per seed (OUT/seed<S>/) and report the mean ± std, e.g. --seeds 0 1 2")
    p.add_argument("--split", default="random", choices=["random", "speaker", "loso"],
                   help="random: stratified --test-size per class (the paper's protocol); speaker: hold out "
                        "--test-speakers; loso: leave one speaker out, one run per speaker, mean ± std")
    p.add_argument("--test-size", type=float, default=0.2, help="share of each class held out (stratified)")
    p.add_argument("--val-size", type=float, default=0.1,
                   help="share of each class of the training portion kept for validation: best.npz is the "
                        "epoch with the best validation UA (see --select-over); the test set is scored for the "
                        "record only (0: no validation, best.npz is the last epoch)")
    p.add_argument("--select-over", type=int, default=None, metavar="W",
                   help="best.npz is the epoch whose validation UA averaged over the W epochs ending at it is the "
                        "highest (the latest of equals); 1: its own validation UA alone (default 10 with windows "
                        "on --data, the recipe; 1 otherwise)")
    p.add_argument("--test-every", type=int, default=0, metavar="N",
                   help="also score the test set after every N-th epoch, for a learning curve on record (0: only "
                        "after the last epoch, for best.npz and the last epoch; nothing is chosen on it either way, "
                        "and scoring it costs time: about a fifth of an epoch in the lcn recipe)")
    p.add_argument("--test-speakers", type=int, default=1, help="speakers held out with --split speaker")
    p.add_argument("--folds", type=int, default=0, help="K-fold cross-validation instead of one split")
    p.add_argument("--device", default=None, choices=["cpu", "gpu"])
    p.add_argument("--out", default="runs/latest", help="output folder")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.npz")
    p.add_argument("--strict", action="store_true", help="stop on an unreadable file instead of skipping it")
    p.add_argument("--cache-dir", default=None, help="feature cache (default ~/.cache/lcn_np/features)")
    p.add_argument("--no-cache", action="store_true", help="do not read or write the feature cache")
    p.add_argument("--pretrained", default=None,
                   help="ImageNet weights for cn-dsc-pm / lcn: a .h5/.npz path, or mobilenet_v1_0.25 (looked up in "
                        "the cache, downloaded once from Keras' public weights if missing; the default for those "
                        "variants on --data), or none (random initialisation)")
    p.add_argument("--freeze-frontend", type=int, default=0, metavar="N", help="keep the front end frozen for N epochs")
    p.add_argument("--frontend-lr", type=float, default=1.0, metavar="SCALE",
                   help="the front end's learning rate as a multiple of --lr (e.g. 0.1: fine-tune the ImageNet "
                        "weights more gently than the capsule head); default 1")
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--freq-shift", type=int, default=0, metavar="K",
                   help="also move each training image up or down by up to K frequency rows (a higher or lower "
                        "voice; off by default)")
    p.add_argument("--speed-perturb", type=float, nargs="+", default=None, metavar="FACTOR",
                   help="train also on the utterances played FACTOR times as fast (resampled: shorter and higher, "
                        "or longer and lower), e.g. 0.9 1.1; each training image is drawn from the original or "
                        "one of them with equal chance. Off by default")
    p.add_argument("--mixup", type=float, default=0.0, metavar="ALPHA",
                   help="mix pairs of training images, λ ~ Beta(α, α), and their targets (e.g. 0.4; 0: off)")
    p.add_argument("--synthetic-per-class", type=int, default=20, help="synthetic utterances per emotion and speaker")
    p.add_argument("--stop-after-steps", type=int, default=0, help=argparse.SUPPRESS)   # tests: simulated Ctrl-C
    args = p.parse_args(argv)
    args.command = resume_command(sys.argv[1:] if argv is None else argv)
    recipe = RECIPES["synthetic" if args.data is None else "real"]
    for name, value in recipe.items():
        if getattr(args, name) is None:
            setattr(args, name, value(args) if callable(value) else value)
    if str(args.pretrained).lower() == "none":
        args.pretrained = None
    for name in ("image_size", "epochs", "batch_size", "routing_iterations", "primary_kernel", "primary_stride",
                 "window_frames", "test_offsets", "select_over"):
        if getattr(args, name) is not None and getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be a positive integer, got {getattr(args, name)}")
    if args.channels is not None and min(args.channels) < 1:
        p.error(f"--channels must be two positive integers, got {' '.join(map(str, args.channels))}")
    if args.channels is not None and args.variant in PRETRAINED_VARIANTS + ("cnn",):
        p.error(f"--channels sets the Table 1 front end (cn, cn-dsc, cn-dsc-dr, cnn-gap); {args.variant} has its own widths")
    if (args.primary_kernel or args.primary_stride) and args.variant in CLASSIFIERS:
        p.error(f"--primary-kernel/--primary-stride set the primary capsules; {args.variant} has none")
    if args.shared_capsules and args.variant in CLASSIFIERS:
        p.error(f"--shared-capsules shares the capsule weights; {args.variant} has no capsules")
    if args.image_size < 16:
        p.error(f"--image-size must be at least 16, got {args.image_size}")
    if args.test_offsets != 1 and args.time != "windows":
        p.error(f"--test-offsets places short utterances in a window; it needs --time windows, not {args.time}")
    if args.test_every < 0:
        p.error(f"--test-every must be 0 (the test set after the last epoch only) or a positive N, got {args.test_every}")
    if not args.lr > 0:
        p.error(f"--lr must be positive, got {args.lr}")
    if not 0 <= args.freq_shift < args.image_size:
        p.error(f"--freq-shift must be 0 (off) or a number of rows below --image-size ({args.image_size}), "
                f"got {args.freq_shift}")
    if args.freq_shift and not args.augment:
        p.error("--freq-shift is an augmentation; it cannot be combined with --no-augment")
    if not args.frontend_lr > 0:
        p.error(f"--frontend-lr must be positive (a multiple of --lr), got {args.frontend_lr}")
    if not 0 < args.test_size < 1:
        p.error(f"--test-size must be between 0 and 1, got {args.test_size}")
    if not 0 <= args.val_size < 1:
        p.error(f"--val-size must be at least 0 and below 1, got {args.val_size}")
    if args.speed_perturb and not all(0.5 <= f <= 2.0 and f != 1.0 for f in args.speed_perturb):
        p.error(f"--speed-perturb factors must lie in [0.5, 2] and differ from 1, got {args.speed_perturb}")
    if args.folds and args.split != "random":
        p.error(f"--folds makes its own splits; it cannot be combined with --split {args.split}")
    return args


# ------------------------------------------------------------------------------------------------------
def load_data(args, config, log):
    """(X, y, items, classes, corpus name) — features for every readable item."""
    if args.data is None:
        from .data.synthetic import make_corpus
        log("data: the built-in SYNTHETIC corpus (source-filter voices, 4 speakers, 6 emotions) — "
            "use --data DIR for real speech")
        corpus = make_corpus(per_class=args.synthetic_per_class, seed=args.seed)
        X = [spectrogram_image(w, config) for w in corpus.waves]
        X = X if config.time == "windows" else numpy.stack(X)
        if config.normalize == "speaker":
            X = speaker_normalize(X, [item.speaker for item in corpus.items], config)
        return X, corpus.labels.astype(numpy.int64), corpus.items, list(corpus.classes), "synthetic"
    corpus = load_corpus(args.data, args.dataset)
    log(f"data: {corpus.name} corpus at {args.data}: {len(corpus)} files, classes {', '.join(corpus.classes)}")
    cache = None if args.no_cache else (args.cache_dir or default_cache_dir())
    X, y, kept, report = features_for_items(corpus.items, config, cache)
    if report["unreadable"]:
        log(f"{len(report['unreadable'])} unreadable file(s) skipped:")
        for path, msg in report["unreadable"]:
            log(f"  {msg}")
        if args.strict:
            raise ValueError(f"--strict: {len(report['unreadable'])} unreadable file(s), stopping")
    for rate, n in sorted(report["resampled"].items()):
        log(f"note: resampled {n} file(s) from {rate} Hz to {config.sample_rate} Hz")
    for path, msg in report["warnings"]:
        log(f"warning: {path}: {msg}")
    if report["cached"]:
        log(f"features: {report['cached']} of {len(kept)} images from the cache")
    return X, y, kept, list(corpus.classes), corpus.name


def speed_versions(args, config, items, log):
    """[images of every item played at factor f] for each f of ``--speed-perturb`` (training draws from them)."""
    if not args.speed_perturb:
        return []
    if args.data is None:
        raise ValueError("--speed-perturb needs --data (the synthetic corpus has no files to resample)")
    cache = None if args.no_cache else (args.cache_dir or default_cache_dir())
    versions = []
    for factor in args.speed_perturb:
        t = time.perf_counter()
        X, _, kept, _ = features_for_items(items, config, cache, speed=factor)
        if len(kept) != len(items):
            raise ValueError(f"--speed-perturb {factor}: {len(items) - len(kept)} file(s) became unreadable")
        versions.append(X)
        log(f"features: speed {factor}: {len(X)} images in {time.perf_counter() - t:.1f} s")
    return versions


def resume_command(argv):
    """The command that continues this run: what the user typed, as ``python -m lcn_np.train``, with
    ``--resume`` (and without the tests' simulated Ctrl-C)."""
    kept, skip = [], False
    for a in argv:
        if skip:
            skip = False
        elif a == "--stop-after-steps":
            skip = True
        elif a != "--resume" and not a.startswith("--stop-after-steps="):
            kept.append(a)
    return " ".join(["python", "-m", "lcn_np.train"] + [shlex.quote(a) for a in kept] + ["--resume"])


def step_rng(seed, epoch, step):
    """The random numbers of one training step depend only on (seed, epoch, step): resumable exactly."""
    return numpy.random.default_rng([seed, epoch, step])


def evaluate(model, X, y, idx, n_classes, config):
    """WA, UA, recall and confusion of the utterances ``idx``."""
    if len(idx) == 0:
        return None
    images = [X[i] for i in idx] if config.time == "windows" else X[idx]
    return scores(y[idx], utterance_scores(model, images, config).argmax(axis=1), n_classes)


def selection_score(history, over):
    """What chooses best.npz after an epoch: the mean validation UA of the last ``over`` epochs of
    ``history`` (all of them while there are fewer). ``over`` = 1 is the epoch's own validation UA; a wider
    window asks for an epoch in a good stretch, not a lucky one — 96 validation utterances move by a few
    points from epoch to epoch by chance alone."""
    recent = [h["val_ua"] for h in history[-over:]]
    return sum(recent) / len(recent)


def training_batch(X, batch, rng, args, config, versions=()):
    """The augmented images of one step: (N, C, S, S), or one random window per utterance (N, C, S, frames).

    ``versions``: the same utterances speed-perturbed (``--speed-perturb``); each image of the batch is then
    drawn from the original or one of them with equal chance."""
    if versions:
        pick = rng.integers(0, len(versions) + 1, size=len(batch))
        images = [X[i] if k == 0 else versions[k - 1][i] for i, k in zip(batch, pick)]
    else:
        images = [X[i] for i in batch] if config.time == "windows" else X[batch]
    if config.time == "windows":
        xb = random_windows(images, config.window_frames, rng, config.silence())
    else:
        xb = numpy.stack(images) if versions else images
    if not args.augment:
        return xb
    return augment(xb, rng, max_shift=0.0 if config.time == "windows" else 0.1, silence=config.silence(),
                   max_bands=args.freq_shift)


def mixup(xb, yb, rng, alpha):
    """mixup (Zhang et al. 2018): x̃ = λ·x + (1−λ)·x[perm], λ ~ Beta(α, α) once per batch, and the loss
    λ·L(x̃, y) + (1−λ)·L(x̃, y[perm]). Both losses are linear in their one-hot targets T, so this is
    training on the mixed target λ·T + (1−λ)·T[perm]. Returns (x̃, [(λ, y), (1−λ, y[perm])])."""
    lam = float(rng.beta(alpha, alpha))
    perm = rng.permutation(len(yb))
    return (lam * xb + (1 - lam) * xb[perm]).astype(xb.dtype), [(lam, yb), (1 - lam, yb[perm])]


class Interrupted(Exception):
    pass


def new_meta(args, model, classes, config, fold):
    """What a checkpoint carries besides the weights: enough to rebuild, predict and resume."""
    return {"model_config": model.config, "classes": classes, "features": config.to_dict(),
            "args": {k: v for k, v in vars(args).items() if k not in ("stop_after_steps", "command")},
            "epoch": 0, "step": 0, "history": [], "best": None, "train_seconds": 0.0, "fold": fold}


RESUME_DEFAULTS = {**PRIMARY_DEFAULTS, "shared_capsules": None}    # what a model config leaves out means


def resume_from(path, model, opt, meta, log):
    """Load weights, optimizer state and progress from ``path`` into model, opt and meta."""
    state, optim_state, saved = load_checkpoint(path)
    for key in ("variant", "image_size", "n_classes", "iterations", "channels", "n_blocks", "primary_kernel",
                "primary_stride", "shared_capsules"):
        now = model.config.get(key, RESUME_DEFAULTS.get(key))
        was = saved["model_config"].get(key, RESUME_DEFAULTS.get(key, now))    # not recorded: build's default
        if was != now:
            hint = " (the default window of cn-dsc-pm and lcn on --data was 128 frames until 288: add " \
                   "--window-frames 128?)" if key == "image_size" else ""
            raise CheckpointError(f"{path} was trained with {key} = {was!r}, not {now!r}; "
                                  f"use the same settings or another --out{hint}")
    was = FeatureConfig.from_dict(saved["features"]).to_dict()   # what it does not record: the old defaults
    changed = [key for key in was if was[key] != meta["features"][key]]
    if changed:
        said = "; ".join(f"{key} = {was[key]!r}, not {meta['features'][key]!r}" for key in changed)
        raise CheckpointError(f"{path} was trained with the feature setting(s) {said}; give the same on the "
                              f"command line (--{changed[0].replace('_', '-')} {was[changed[0]]}) or another --out")
    was, now = saved.get("args", {}).get("select_over", 1), meta["args"]["select_over"]   # none recorded: 1
    if was != now:
        raise CheckpointError(f"{path} chose best.npz with select_over = {was}, not {now}; give --select-over "
                              f"{was} to go on as it began, or another --out")
    model.load_state_dict(state, str(path))
    opt.load_state_dict(optim_state)
    meta.update({k: saved[k] for k in ("epoch", "step", "history", "best", "train_seconds")})
    log(f"resuming from {path}: epoch {meta['epoch'] + 1}, step {meta['step']}")


def optimizer_for(args, model):
    """The optimiser of ``--optimizer`` over the model's parameters; ``--frontend-lr`` scales the front end's
    learning rate (the parameters named ``frontend.…``)."""
    opt = make_optimizer(args.optimizer, model.parameters, args.lr, args.weight_decay, ema=args.ema)
    if args.frontend_lr != 1.0:
        opt.lr_scale = {"frontend.": args.frontend_lr}
    return opt


def model_options(args):
    """The optional model settings given on the command line (absent ones keep build's defaults, so a
    checkpoint's model_config only names what was chosen)."""
    names = {"n_blocks": args.n_blocks, "primary_kernel": args.primary_kernel, "primary_stride": args.primary_stride,
             "channels": args.channels, "shared_capsules": args.shared_capsules}
    return {name: value for name, value in names.items() if value}


def train_step(model, opt, args, xb, yb, lr, where):
    """Forward, loss, backward, clipping, update; returns (loss, scores). ``where`` names the step.

    ``yb``: the labels (N,), or with mixup a list of (weight, labels) whose weighted losses are summed."""
    xp = backend.device_module()
    for _, layer in model.body.named():
        if isinstance(layer, Dropout):                       # dropout masks: seeded per step too
            layer.rng = where["rng"]
    scores_b = model.forward(xp.asarray(xb))
    targets = yb if isinstance(yb, list) else [(1.0, yb)]
    try:
        loss, dscores = 0.0, 0.0
        for weight, labels in targets:
            part, cache = model.loss_forward(scores_b, xp.asarray(labels))
            loss, dscores = loss + weight * part, dscores + weight * model.loss_backward(cache)
        model.backward(dscores, input_grad=False)
        clip_grad_norm(model.parameters, 5.0)
    except FloatingPointError as exc:
        raise FloatingPointError(f"epoch {where['epoch'] + 1}, step {where['step'] + 1}: {exc}. "
                                 f"Try a lower --lr (now {args.lr}).") from None
    opt.lr = lr
    opt.step()
    return float(loss), scores_b


def train_epoch(model, opt, args, config, X, y, train_idx, epoch, meta, steps_per_epoch, budget, versions=()):
    """One pass over the training set in a seeded order; returns (mean loss, training accuracy, the
    epoch's progress bar, left open for the evaluation's figures).

    ``budget`` counts the steps this process may still run (the tests' simulated Ctrl-C)."""
    opt.frozen = {"frontend."} if epoch < args.freeze_frontend else set()
    order = numpy.random.default_rng([args.seed, epoch]).permutation(train_idx)
    bar = Progress(len(order), f"epoch {epoch + 1}/{args.epochs}")
    losses, correct, seen = [], 0, 0
    for step in range(meta["step"], steps_per_epoch):
        if budget["left"] == 0:
            raise Interrupted
        batch = order[step * args.batch_size:(step + 1) * args.batch_size]
        rng = step_rng(args.seed, epoch, step)
        xb, yb = training_batch(X, batch, rng, args, config, versions), y[batch]
        if args.mixup:
            xb, yb = mixup(xb, yb, rng, args.mixup)
        lr = lr_at(epoch * steps_per_epoch + step, steps_per_epoch * args.epochs, args.lr, args.schedule)
        loss, scores_b = train_step(model, opt, args, xb, yb, lr, {"rng": rng, "epoch": epoch, "step": step})
        losses.append(loss)
        correct += int((backend.to_numpy(scores_b.argmax(axis=1)) == y[batch]).sum())
        seen += len(batch)
        meta["step"] = step + 1
        budget["left"] -= 1
        bar.update(len(batch), loss=float(numpy.mean(losses)), acc=correct / seen)
    return (float(numpy.mean(losses)) if losses else None), correct / max(seen, 1), bar


def train_one(args, X, y, split, classes, config, out, log, fresh_if_missing=False, versions=()):
    """Train on ``split["train"]``; every epoch score the validation set, and the test set after the last
    epoch (and every ``--test-every`` epochs, for the record). best.npz is the epoch with the best validation
    UA averaged over ``--select-over`` epochs (the latest of equals), never chosen on the test set.

    Returns the metrics dict: the test figures of best.npz at the top level, the last epoch's under "final".
    """
    train_idx, val_idx, test_idx = split["train"], split["val"], split["test"]
    n_classes = len(classes)
    shape = config.input_shape if config.time == "windows" else args.image_size
    model = build(args.variant, n_classes, shape, seed=args.seed, pretrained=args.pretrained,
                  iterations=args.routing_iterations, **model_options(args))
    opt = optimizer_for(args, model)
    steps_per_epoch = -(-len(train_idx) // args.batch_size)
    meta = new_meta(args, model, classes, config, split["name"])
    last, best = out / "last.npz", out / "best.npz"
    if args.resume and (last.is_file() or not fresh_if_missing):    # a fold not reached yet starts afresh
        resume_from(last, model, opt, meta, log)
    model.train()
    train_seconds, t0 = meta["train_seconds"], time.perf_counter()

    def save(path):
        meta["train_seconds"] = train_seconds + time.perf_counter() - t0
        save_checkpoint(path, model.state_dict(), opt.state_dict(), meta)

    budget = {"left": args.stop_after_steps or -1}
    test = None
    try:
        for epoch in range(meta["epoch"], args.epochs):
            loss, train_acc, bar = train_epoch(model, opt, args, config, X, y, train_idx, epoch, meta,
                                               steps_per_epoch, budget, versions)
            with opt.averaged():                                 # --ema: the averaged weights are the model
                val = evaluate(model, X, y, val_idx, n_classes, config)
                test = (evaluate(model, X, y, test_idx, n_classes, config) if epoch + 1 == args.epochs or
                        (args.test_every and (epoch + 1) % args.test_every == 0) else None)
                meta["history"].append({"epoch": epoch + 1, "loss": loss, "train_acc": train_acc,
                                        "val_ua": val and val["ua"], "val_wa": val and val["wa"],
                                        "test_ua": test and test["ua"], "test_wa": test and test["wa"],
                                        "lr": opt.lr})
                bar.close(loss=loss or 0.0, acc=train_acc, **({"val_UA": val["ua"]} if val else {}),
                          **({"test_UA": test["ua"]} if test else {}))
                meta["epoch"], meta["step"] = epoch + 1, 0
                chosen = selection_score(meta["history"], args.select_over) if val else 0.0   # none: the last
                if meta["best"] is None or chosen >= meta["best"].get("score", meta["best"]["val_ua"]):
                    meta["best"] = {"epoch": epoch + 1, "val_ua": val["ua"] if val else 0.0, "score": chosen}
                    save(best)
            save(last)
    except (KeyboardInterrupt, Interrupted):
        save(last)
        log(f"\ninterrupted: saved {last}. Resume with:\n  {args.command}")
        raise KeyboardInterrupt from None
    train_seconds += time.perf_counter() - t0
    if test is None:                                             # resumed after the last epoch
        with opt.averaged():
            test = evaluate(model, X, y, test_idx, n_classes, config)
    final = selected = test
    if meta["best"]["epoch"] != meta["epoch"]:                   # best.npz is an earlier epoch: score it too
        state, _, _ = load_checkpoint(best)
        model.load_state_dict(state, str(best))
        selected = evaluate(model, X, y, test_idx, n_classes, config)
    return {"classes": classes, "recall": selected["recall"], "ua": selected["ua"], "wa": selected["wa"],
            "confusion": selected["confusion"], "selected_epoch": meta["best"]["epoch"],
            "val_ua": meta["best"]["val_ua"] if len(val_idx) else None,
            "final": {k: final[k] for k in ("ua", "wa", "recall", "confusion")},
            "train_seconds": train_seconds, "history": meta["history"], "split": split["name"],
            "n_train": int(len(train_idx)), "n_val": int(len(val_idx)), "n_test": int(len(test_idx))}


def make_splits(args, y, items):
    """[{name, train, val, test}]: the test split(s) of --split / --folds, then a stratified validation
    share carved from each training portion."""
    if args.folds:
        tests = [(f"fold{k + 1}", tr, te) for k, (tr, te) in enumerate(stratified_kfold(y, args.folds, args.seed))]
    elif args.split == "loso":
        tests = loso_splits(items)
    elif args.split == "speaker":
        tests = [(None, *speaker_split(items, args.test_speakers, args.seed))]
    else:
        tests = [(None, *stratified_split(y, args.test_size, args.seed))]
    splits = []
    for name, train_idx, test_idx in tests:
        train_idx, val_idx = carve_validation(y, train_idx, args.val_size, args.seed)
        splits.append({"name": name, "train": train_idx, "val": val_idx, "test": test_idx})
    return splits


def provenance(args):
    """Where a figure came from: the command, every argument, the versions, the commit."""
    import platform
    import subprocess
    from . import __version__
    commit = None
    try:
        here = pathlib.Path(__file__).resolve().parent
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=here, capture_output=True, text=True,
                                timeout=5).stdout.strip() or None
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=here,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        if commit and dirty:
            commit += " (with uncommitted changes)"
    except (OSError, subprocess.SubprocessError):
        pass
    return {"command": args.command.replace(" --resume", ""),
            "args": {k: v for k, v in vars(args).items() if k not in ("stop_after_steps", "command")},
            "lcn_np": __version__, "commit": commit, "numpy": numpy.__version__,
            "python": platform.python_version(), "platform": platform.platform(),
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z")}


def run_seed(args, X, y, items, classes, name, config, out, log, versions=()):
    """One seed: every split of it (one, K folds or one per speaker), summarised."""
    splits = make_splits(args, y, items)
    results = []
    for split in splits:
        split_out = out / split["name"] if split["name"] else out
        split_out.mkdir(parents=True, exist_ok=True)
        write_split(split_out / "split.json", items, split["train"], split["test"], split["val"])
        for w in leakage_report(items, split["train"], split["test"], "kfold" if args.folds else args.split):
            log(f"warning: {w}")
        log(f"{args.variant}, seed {args.seed}: {len(split['train'])} training / {len(split['val'])} validation / "
            f"{len(split['test'])} test utterances" + (f" ({split['name']})" if split["name"] else ""))
        results.append(train_one(args, X, y, split, classes, config, split_out, log,
                                 fresh_if_missing=len(splits) > 1 or bool(args.seeds), versions=versions))
    metrics = summarise(results)
    metrics.update(corpus=name, variant=args.variant, image_size=args.image_size, epochs=args.epochs,
                   seed=args.seed, split="kfold" if args.folds else args.split, provenance=provenance(args))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    if len(results) > 1:
        log("\n" + mean_std_table(classes, [(r["split"], r) for r in results], args.variant))
    else:
        log("\n" + table3_row(classes, metrics, metrics["train_seconds"], args.variant))
    over = f" averaged over {args.select_over} epochs" if args.select_over > 1 and args.val_size else ""
    log(f"test figures of best.npz (epoch {metrics['selected_epoch']}, chosen on validation UA{over}"
        + ("" if args.val_size else "; no validation set: the last epoch") + f"); the last epoch's test UA: "
        f"{100 * metrics['final']['ua']:.2f} %")
    log("\nconfusion matrix (test set):\n" + confusion_text(classes, metrics["confusion"]))
    log(f"\nwrote {out / 'metrics.json'}, best.npz, last.npz, split.json")
    return metrics


def run(args, log=print):
    if args.device:
        backend.set_device(args.device)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    config = FeatureConfig(image_size=args.image_size, frequency=args.frequency, channels_from=args.channels_from,
                           time=args.time, window_frames=args.window_frames, normalize=args.normalize,
                           test_offsets=args.test_offsets)
    seeds = args.seeds or [args.seed]
    data = None
    per_seed = []
    for seed in seeds:
        args.seed = seed
        if data is None or args.data is None:                # the synthetic corpus is drawn per seed
            t_data = time.perf_counter()
            data = load_data(args, config, log)
            X, y, items, classes, name = data
            log(f"features: {len(X)} images of {config.channels}×{config.image_size}×"
                f"{'frames' if config.time == 'windows' else config.image_size} in {time.perf_counter() - t_data:.1f} s"
                + (f"; the network sees windows of {config.window_frames} frames" if config.time == "windows" else ""))
            versions = speed_versions(args, config, items, log)
            counts = numpy.bincount(y, minlength=len(classes))
            if counts.min() < 2:
                raise ValueError(f"class {classes[int(counts.argmin())]!r} has {counts.min()} usable file(s); "
                                 "every class needs at least 2 to be split into training and test")
        seed_out = out / f"seed{seed}" if args.seeds else out
        per_seed.append(run_seed(args, X, y, items, classes, name, config, seed_out, log, versions))
    if not args.seeds:
        return per_seed[0]
    metrics = summarise(per_seed)
    metrics.update(corpus=name, variant=args.variant, seeds=seeds, provenance=provenance(args))
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1))
    log(f"\n{len(seeds)} seeds, test figures of each seed's best.npz (chosen on validation):\n"
        + mean_std_table(classes, [(f"seed {s}", m) for s, m in zip(seeds, per_seed)], args.variant))
    log(f"\nwrote {out / 'metrics.json'}")
    return metrics


def summarise(results):
    """One result as it is, or the mean and std over several (folds, speakers or seeds): per-class recall,
    UA and WA of the selected models and of the last epochs; confusion matrices summed."""
    m = dict(results[0])
    if len(results) == 1:
        return m
    mean = lambda key, rs=results: float(numpy.mean([r[key] for r in rs]))    # noqa: E731
    std = lambda key, rs=results: float(numpy.std([r[key] for r in rs]))      # noqa: E731
    m.update(recall=numpy.mean([r["recall"] for r in results], axis=0).tolist(),
             recall_std=numpy.std([r["recall"] for r in results], axis=0).tolist(),
             ua=mean("ua"), ua_std=std("ua"), wa=mean("wa"), wa_std=std("wa"),
             confusion=numpy.sum([r["confusion"] for r in results], axis=0).tolist(),
             train_seconds=float(sum(r["train_seconds"] for r in results)), parts=results)
    if all("final" in r for r in results):
        finals = [r["final"] for r in results]
        m["final"] = {"ua": mean("ua", finals), "ua_std": std("ua", finals), "wa": mean("wa", finals)}
    for k in ("history", "selected_epoch", "val_ua", "split"):
        m.pop(k, None)
    m["selected_epoch"] = [r.get("selected_epoch") for r in results]
    return m


def main(argv=None):
    args = parse_args(argv)
    try:
        run(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, AudioError, CheckpointError, backend.DeviceError, FloatingPointError, NotImplementedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
