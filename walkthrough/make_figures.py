"""Draw the walkthrough's figures into walkthrough/figures/ (needs matplotlib: pip install 'lcn-np[figures]').

    python walkthrough/make_figures.py [--checkpoint runs/casia-lcn/best.npz]

Figures that need CASIA or the ImageNet weights use ../shared when it exists and fall back to the
synthetic corpus (or are skipped) otherwise; the coupling figure uses a trained checkpoint if given.
"""

import argparse
import json
import pathlib

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lcn_np.features import FeatureConfig, log_power_spectrogram, spectrogram_image  # noqa: E402
from lcn_np.synthetic import CLASSES, make_corpus  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
FIG = HERE / "figures"
SHARED = HERE.parent.parent / "shared"
CASIA = SHARED / "data" / "casia"
WEIGHTS = SHARED / "weights" / "mobilenet_v1_0.25_224_imagenet_notop.h5"


def save(fig, name):
    FIG.mkdir(exist_ok=True)
    fig.savefig(FIG / name, dpi=80, bbox_inches="tight")
    plt.close(fig)
    print("wrote", FIG / name)


def wave_and_spectrogram():
    wave = make_corpus(per_class=1, n_speakers=1, seed=0).waves[0]
    fig, (a, b) = plt.subplots(2, 1, figsize=(7, 4.5))
    a.plot(np.arange(len(wave)) / 16000, wave, lw=0.5)
    a.set(xlabel="time (s)", ylabel="amplitude", title="a synthetic 'angry' utterance, 16 kHz")
    db = log_power_spectrogram(wave, FeatureConfig())
    b.imshow(db, origin="lower", aspect="auto", extent=[0, len(wave) / 16000, 0, 8000], cmap="magma")
    b.set(xlabel="time (s)", ylabel="frequency (Hz)", title="power spectrogram (dB)")
    fig.tight_layout()
    save(fig, "01_wave.png")


def window_and_frames():
    from lcn_np.signal import padded_window
    w = padded_window("hamming", 400, 512)
    fig, ax = plt.subplots(figsize=(7, 2.8))
    for t in range(4):
        ax.plot(np.arange(512) + 160 * t, w, label=f"frame {t}")
    ax.set(xlabel="sample", ylabel="window", title="periodic Hamming (400) zero-padded to 512, hop 160")
    ax.legend(fontsize=7)
    save(fig, "02_window.png")


def six_emotions():
    config = FeatureConfig(image_size=64)
    if CASIA.exists():
        from lcn_np.audio import load_audio
        paths = [CASIA / "liuchanhg" / c / "201.wav" for c in CLASSES]
        images = [spectrogram_image(load_audio(p), config)[0] for p in paths]
        title = "CASIA, speaker liuchanhg, sentence 201"
    else:
        corpus = make_corpus(per_class=1, n_speakers=1, seed=0)
        images = [spectrogram_image(w, config)[0] for w in corpus.waves]
        title = "synthetic corpus (CASIA not found)"
    fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
    for ax, img, c in zip(axes, images, CLASSES):
        ax.imshow(img, cmap="magma", vmin=-1, vmax=1)
        ax.set_title(c)
        ax.axis("off")
    fig.suptitle(title + ": 64×64 images")
    save(fig, "03_six_emotions.png")


def table1_bars():
    blocks = ["3→64", "64→64", "64→128", "128→128"]
    dsc = [219, 4672, 8768, 17536]
    std = [1728, 36864, 73728, 147456]
    fig, ax = plt.subplots(figsize=(6, 3))
    x = np.arange(4)
    ax.bar(x - 0.2, std, 0.4, label="standard 3×3")
    ax.bar(x + 0.2, dsc, 0.4, label="depthwise-separable")
    ax.set(xticks=x, xticklabels=blocks, ylabel="weights", yscale="log", title="the paper's Table 1 front end")
    ax.legend()
    save(fig, "04_table1.png")


def squash_curve():
    n = np.linspace(0, 5, 400)
    length = n ** 2 / (1 + n ** 2)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(n, length, label="|v| = |s|²/(1+|s|²)")
    ax.plot(n, 2 * n / (1 + n ** 2) ** 2, label="d|v|/d|s|")
    ax.set(xlabel="|s|", title="squash")
    ax.legend()
    save(fig, "06_squash.png")


def coupling(checkpoint):
    from lcn_np.audio import load_audio
    if checkpoint and pathlib.Path(checkpoint).exists():
        from lcn_np.predict import load_model
        model, classes, config = load_model(checkpoint)
        note = f"trained ({pathlib.Path(checkpoint).parent.name})"
    else:
        from lcn_np.model import build
        model, classes, config = build("lcn", image_size=64), CLASSES, FeatureConfig(image_size=64)
        model.eval()
        note = "untrained"
    wave = load_audio(CASIA / "wangzhe" / "happy" / "210.wav") if CASIA.exists() else make_corpus(1, 1).waves[2]
    lengths = model.forward(spectrogram_image(wave, config)[None])
    c = model.last_coupling()[0]                        # (I, J)
    order = np.argsort(c.argmax(axis=1) * 10 + c.max(axis=1))
    fig, ax = plt.subplots(figsize=(7, 3))
    ax.imshow(c[order].T, aspect="auto", cmap="viridis")
    ax.set(yticks=range(len(classes)), yticklabels=classes, xlabel="primary capsule (sorted)",
           title=f"coupling coefficients, {note}; lengths " + " ".join(f"{v:.2f}" for v in lengths[0]))
    save(fig, "07_coupling.png")


def margin_curves():
    v = np.linspace(0, 1, 200)
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.plot(v, np.maximum(0, 0.9 - v) ** 2, label="true class: max(0, 0.9 − |v|)²")
    ax.plot(v, 0.5 * np.maximum(0, v - 0.1) ** 2, label="other classes: 0.5·max(0, |v| − 0.1)²")
    ax.set(xlabel="capsule length |v|", ylabel="loss")
    ax.legend(fontsize=8)
    save(fig, "08_margin.png")


def first_layer_filters():
    if not WEIGHTS.exists():
        print("skipped 09_filters.png: no ImageNet weights at", WEIGHTS)
        return
    from lcn_np.weights import read_keras_h5
    k = read_keras_h5(WEIGHTS)["conv1/kernel"]            # (3, 3, 3, 8)
    fig, axes = plt.subplots(1, 8, figsize=(10, 1.6))
    for i, ax in enumerate(axes):
        f = k[:, :, :, i]
        ax.imshow((f - f.min()) / (f.max() - f.min() + 1e-12), interpolation="nearest")
        ax.axis("off")
    fig.suptitle("MobileNet-v1 α=0.25 conv1 filters (ImageNet), as RGB")
    save(fig, "09_filters.png")


def learning_curves():
    results = sorted((HERE / "results").glob("casia-*.json"))
    if not results:
        return
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for p in results:
        h = json.loads(p.read_text())["history"]
        ax.plot([e["epoch"] for e in h], [100 * e["test_ua"] for e in h], label=p.stem.replace("casia-", ""))
    ax.set(xlabel="epoch", ylabel="test UA (%)", title="CASIA, stratified 80/20, seed 0")
    ax.legend(fontsize=7)
    save(fig, "10_curves.png")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="runs/casia-lcn/best.npz", help="a trained model for the coupling figure")
    args = p.parse_args(argv)
    wave_and_spectrogram()
    window_and_frames()
    six_emotions()
    table1_bars()
    squash_curve()
    coupling(args.checkpoint)
    margin_curves()
    first_layer_filters()
    learning_curves()


if __name__ == "__main__":
    main()
