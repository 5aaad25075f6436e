"""Draw the walkthrough's figures into walkthrough/figures/ (needs matplotlib: pip install 'lcn-np[figures]').

    python walkthrough/make_figures.py [--checkpoint runs/casia-lcn/best.npz]

One function per figure, each computing what it draws with the real functions of lcn_np. This file draws
chapters 1–5 (and chapter 11's learning curves); ``walkthrough/figures_part2.py`` draws chapters 6–10 and
is run from :func:`main` when it is there. Figures that need CASIA use ../shared/data/casia when it
exists and fall back to the synthetic corpus otherwise; the checkpoint is passed on to figures_part2
(the trained-routing figure of chapter 7).
"""

import argparse
import importlib.util
import json
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lcn_np.data.features import FeatureConfig, log_power_spectrogram, spectrogram_image  # noqa: E402
from lcn_np.ops import padded_window, power_spectrogram_forward  # noqa: E402
from lcn_np.data.synthetic import CLASSES, make_corpus  # noqa: E402

HERE = pathlib.Path(__file__).resolve().parent
FIG = HERE / "figures"
SHARED = HERE.parent.parent / "shared"
CASIA = SHARED / "data" / "casia"
DPI = 80


def save(fig, name):
    FIG.mkdir(exist_ok=True)
    fig.savefig(FIG / name, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    print("wrote", (FIG / name).relative_to(HERE.parent))


def wave_and_spectrogram():
    """Chapter 1: a synthetic utterance as samples, and (looking ahead) as a dB spectrogram."""
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
    """Chapter 2: four frames one hop apart, and why a window: leakage of a 440 Hz tone."""
    w = padded_window("hamming", 400, 512)
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 3))
    for t in range(4):
        a.plot(np.arange(512) + 160 * t, w, label=f"frame {t}")
    a.set(xlabel="sample", ylabel="window",
          title="periodic Hamming (400) zero-padded to 512, hop 160")
    a.legend(fontsize=7)
    tone = np.sin(2 * np.pi * 440 * np.arange(4000) / 16000)
    freqs = np.arange(257) * 16000 / 512
    for window, label in (("boxcar", "no window (rectangular)"), ("hamming", "Hamming")):
        P, _ = power_spectrogram_forward(tone, window=window)
        db = 10 * np.log10(P[:, 5] / P[:, 5].max() + 1e-12)
        b.plot(freqs, db, label=label)
    b.set(xlim=(0, 2000), ylim=(-90, 5), xlabel="frequency (Hz)", ylabel="dB below the peak",
          title="one frame of a 440 Hz tone: leakage")
    b.legend(fontsize=8)
    fig.tight_layout()
    save(fig, "02_window.png")


def six_emotions():
    """Chapter 3: one sentence in six emotions, as the 64×64 images the network sees."""
    config = FeatureConfig(image_size=64)
    if CASIA.exists():
        from lcn_np.data.audio import load_audio
        waves = [load_audio(CASIA / "liuchanhg" / c / "201.wav") for c in CLASSES]
        title = "CASIA, speaker liuchanhg, sentence 201"
    else:
        waves = make_corpus(per_class=1, n_speakers=1, seed=0).waves
        title = "synthetic corpus (CASIA not found)"
    fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
    for ax, wave, c in zip(axes, waves, CLASSES):
        ax.imshow(spectrogram_image(wave, config)[0], cmap="magma", vmin=-1, vmax=1)
        ax.set_title(f"{c} ({len(wave) / 16000:.1f} s)", fontsize=9)
        ax.axis("off")
    fig.suptitle(title + ": 64×64 images (whole utterance, low frequencies at the bottom)")
    save(fig, "03_six_emotions.png")


def table1_bars():
    """Chapter 4: weights per front-end block, DSC (`cn-dsc`) vs standard (`cn`), read off the models."""
    from lcn_np.model import build

    def weights_per_block(variant):
        counts = {}
        for name, leaf in build(variant, image_size=32).body.named():
            if name.startswith("frontend.block") and hasattr(leaf, "flops"):     # convolutions only
                block = name.split(".")[1]
                counts[block] = counts.get(block, 0) + leaf.n_parameters()
        return counts

    dsc, std = weights_per_block("cn-dsc"), weights_per_block("cn")
    blocks = ["3→64", "64→64", "64→128", "128→128"]
    x = np.arange(len(blocks))
    fig, ax = plt.subplots(figsize=(6, 3))
    bars_std = ax.bar(x - 0.2, list(std.values()), 0.4, label="standard 3×3 (cn)")
    bars_dsc = ax.bar(x + 0.2, list(dsc.values()), 0.4, label="depthwise-separable (cn-dsc)")
    for bars in (bars_std, bars_dsc):
        ax.bar_label(bars, labels=[f"{b.get_height():,.0f}" for b in bars], fontsize=7)
    ax.set(xticks=x, xticklabels=blocks, ylabel="weights (log scale)", yscale="log", ylim=(100, 600000),
           title="the paper's Table 1 front end")
    ax.legend(fontsize=8, loc="upper left")
    save(fig, "04_table1.png")


def learning_curves():
    """Chapter 11: test UA per epoch of the committed CASIA runs (walkthrough/results/casia-*.json)."""
    results = sorted((HERE / "results").glob("casia-*.json"))
    if not results:
        print("skipped 11_curves.png: no walkthrough/results/casia-*.json")
        return
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for p in results:
        h = json.loads(p.read_text())["history"]
        ax.plot([e["epoch"] for e in h], [100 * e["test_ua"] for e in h], label=p.stem.replace("casia-", ""))
    ax.set(xlabel="epoch", ylabel="test UA (%)", title="CASIA, stratified 80/20, seed 0")
    ax.legend(fontsize=7)
    save(fig, "11_curves.png")


def part2(checkpoint):
    """Chapters 6–10: run walkthrough/figures_part2.py's main() if that file exists."""
    path = HERE / "figures_part2.py"
    if not path.exists():
        return
    spec = importlib.util.spec_from_file_location("figures_part2", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(checkpoint)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--checkpoint", default="runs/casia-lcn/best.npz",
                   help="a model trained on CASIA, for chapter 7's trained-routing figure (skipped if absent)")
    args = p.parse_args(argv)
    for figure in (wave_and_spectrogram, window_and_frames, six_emotions, table1_bars, learning_curves):
        figure()
    part2(args.checkpoint if pathlib.Path(args.checkpoint).exists() else None)


if __name__ == "__main__":
    main()
