"""``python -m lcn_np.predict --checkpoint DIR/best.npz a.wav [b.wav …]``: the emotion of each file.

The checkpoint carries the class names and the feature settings, so nothing else is needed. Any
sample rate, mono or stereo. A file that cannot be read is reported by name and the others are still
done; the exit status is 1 if any file failed.
"""

import argparse
import sys

import numpy

from . import backend
from .checkpoint import CheckpointError, load_checkpoint
from .data.audio import AudioError, load_audio
from .data.features import FeatureConfig, spectrogram_image, utterance_windows
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
    the mean over all of its windows. The model is run in eval mode, as it is left."""
    xp = backend.device_module()
    if config.time == "windows":
        X, owner = utterance_windows(images, config.window_frames, config.silence())
    else:
        X, owner = images, None
    was_training = model.training
    model.eval()
    out = numpy.concatenate([backend.to_numpy(model.forward(xp.asarray(X[i:i + batch_size])))
                             for i in range(0, len(X), batch_size)])
    if was_training:
        model.train()
    if owner is None:
        return out
    counts = numpy.bincount(owner, minlength=len(images))
    sums = numpy.zeros((len(images), out.shape[1]))
    numpy.add.at(sums, owner, out)
    return sums / counts[:, None]


def predict_file(model, classes, config, path):
    """(predicted class, {class: score}, audio info) for one audio file, preprocessed exactly as in training."""
    info = {}
    wave = load_audio(path, config.sample_rate, info)
    image = spectrogram_image(wave, config)
    scores = utterance_scores(model, [image] if config.time == "windows" else image[None], config)[0]
    return classes[int(scores.argmax())], dict(zip(classes, map(float, scores))), info


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
    failed = 0
    for path in args.files:
        try:
            label, scores, info = predict_file(model, classes, config, path)
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
