"""Draw the walkthrough's figures into walkthrough/figures/ (needs matplotlib: pip install 'lcn-np[figures]').

    python walkthrough/make_figures.py [--checkpoint runs/casia-lcn/best.npz]

Figures that need CASIA or the ImageNet weights use ../shared when it exists and fall back to the
synthetic corpus (or are skipped) otherwise. Chapters 6–9's figures come from figures_part2.py, which
draws the trained-model coupling figure only when given a checkpoint.
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
    learning_curves()
    part2().main(args.checkpoint if pathlib.Path(args.checkpoint).exists() else None)   # chapters 6–9


def part2():
    """walkthrough/figures_part2.py: the figures of chapters 6–9 (squash, routing, margin loss, filters)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location("figures_part2", HERE / "figures_part2.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


if __name__ == "__main__":
    main()
