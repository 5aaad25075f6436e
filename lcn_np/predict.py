"""``python -m lcn_np.predict --checkpoint DIR/best.npz a.wav [b.wav …]``: the emotion of each file.

The checkpoint carries the class names and the feature settings, so nothing else is needed. A model
trained with ``--normalize speaker`` takes the files of one call as one speaker's utterances. Any
sample rate, mono or stereo. A file that cannot be read is reported by name and the others are still
done; the exit status is 1 if any file failed.
"""

import argparse
import sys

import numpy

from . import backend
from .checkpoint import CheckpointError, load_checkpoint
from .data.audio import AudioError, load_audio
from .data.features import FeatureConfig, sliding_windows, speaker_normalize, spectrogram_image
from .model import build


def load_model(path):
    """(model in eval mode, class names, FeatureConfig) from a checkpoint."""
    state, _, meta = load_checkpoint(path)
    cfg = dict(meta["model_config"])
    variant, n_classes, size = cfg.pop("variant"), cfg.pop("n_classes"), cfg.pop("image_size")
    cfg.pop("pretrained", None)                      # the weights are in the checkpoint already
    cfg.pop("n_primary_capsules", None)
    model = build(variant, n_classes, size, **cfg)
    model.load_state_dict(state, str(path))
    model.eval()
    return model, meta["classes"], FeatureConfig.from_dict(meta["features"])


def utterance_scores(model, images, config, batch_size=64):
    """Class scores (N, K) of each utterance: the model's output for its image, or with ``time="windows"``
    the mean over all of its windows (a short utterance at ``config.test_offsets`` offsets in its window).
    The model is run in eval mode, as it is left."""
    xp = backend.device_module()
    was_training = model.training
    model.eval()
    if config.time == "windows":
        sums, counts = None, numpy.zeros(len(images))
        for X, owner in window_batches(images, config, batch_size):
            out = backend.to_numpy(model.forward(xp.asarray(X)))
            if sums is None:
                sums = numpy.zeros((len(images), out.shape[1]))
            numpy.add.at(sums, owner, out)                       # each window's scores to its utterance
            numpy.add.at(counts, owner, 1)
        result = sums / counts[:, None]
    else:
        result = numpy.concatenate([backend.to_numpy(model.forward(xp.asarray(images[i:i + batch_size])))
                                    for i in range(0, len(images), batch_size)])
    if was_training:
        model.train()
    return result


def window_batches(images, config, batch_size):
    """Every window of every image (``sliding_windows``), in batches of ``batch_size`` windows: (windows,
    owner = the image each came from). Made as they are needed, so that the windows of a whole test set (nine
    offsets per short utterance) are never in memory at once; the batches are the same as slicing the
    concatenation of all windows."""
    held, owners, n = [], [], 0
    for i, image in enumerate(images):
        wins = sliding_windows(image, config.window_frames, config.silence(), config.test_offsets)
        held.append(wins)
        owners.append(numpy.full(len(wins), i))
        n += len(wins)
        while n >= batch_size:
            X, owner = numpy.concatenate(held), numpy.concatenate(owners)
            yield X[:batch_size], owner[:batch_size]
            held, owners, n = [X[batch_size:]], [owner[batch_size:]], n - batch_size
    if n:
        yield numpy.concatenate(held), numpy.concatenate(owners)


def predict_file(model, classes, config, path):
    """(predicted class, {class: score}, audio info) for one audio file, preprocessed exactly as in training."""
    info = {}
    image = spectrogram_image(load_audio(path, config.sample_rate, info), config)
    if config.normalize == "speaker":                # one file: its own statistics stand for the speaker's
        image = speaker_normalize([image], [path], config)[0]
    return label_scores(model, classes, config, image) + (info,)


def label_scores(model, classes, config, image):
    """(predicted class, {class: score}) of one preprocessed image."""
    scores = utterance_scores(model, [image] if config.time == "windows" else image[None], config)[0]
    return classes[int(scores.argmax())], dict(zip(classes, map(float, scores)))


def predict_speaker(model, classes, config, paths):
    """For a model trained with ``normalize="speaker"``: the files are one speaker's utterances, normalised
    together as in training. Returns {path: (class, scores, info) or the AudioError}."""
    results, images, read = {}, [], []
    for path in paths:
        info = {}
        try:
            images.append(spectrogram_image(load_audio(path, config.sample_rate, info), config))
            read.append((path, info))
        except AudioError as exc:
            results[path] = exc
    if images:
        normalised = speaker_normalize(images, ["the speaker"] * len(images), config)
        for (path, info), image in zip(read, normalised):
            results[path] = label_scores(model, classes, config, image) + (info,)
    return results


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lcn_np.predict", description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", required=True, help="a best.npz / last.npz written by lcn_np.train")
    p.add_argument("--device", choices=["cpu", "gpu"])
    p.add_argument("files", nargs="+", help="audio files (wav, flac, ogg)")
    args = p.parse_args(argv)
    try:
        if args.device:
            backend.set_device(args.device)
        model, classes, config = load_model(args.checkpoint)
    except (CheckpointError, ValueError, backend.DeviceError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    score_name = "capsule length" if model.loss == "margin" else "logit"
    together = predict_speaker(model, classes, config, args.files) if config.normalize == "speaker" else {}
    if together:
        print(f"note: this model normalises each speaker's features; the {len(args.files)} file(s) given are "
              f"taken as one speaker's utterances (give several of the same speaker)", file=sys.stderr)
    failed = 0
    for path in args.files:
        try:
            result = together.get(path) or predict_file(model, classes, config, path)
            if isinstance(result, AudioError):
                raise result
            label, scores, info = result
        except AudioError as exc:
            print(f"{path}: ERROR {exc}")
            failed += 1
            continue
        note = f" (resampled from {info['original_rate']} Hz)" if info.get("resampled") else ""
        print(f"{path}: {label}{note}")
        print("   " + "  ".join(f"{c} {s:.3f}" for c, s in scores.items()) + f"   [{score_name}]")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
