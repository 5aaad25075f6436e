"""Draw the walkthrough's figures into walkthrough/figures/ (needs matplotlib: pip install 'lcn-np[figures]').

    python walkthrough/make_figures.py [--checkpoint runs/casia-lcn/best.npz]

One function per figure, each computing what it draws with the real functions of lcn_np. This file draws
chapters 1–5, chapter 9's architecture and chapter 11's learning curves; ``walkthrough/figures_part2.py`` draws chapters 6–10 and
is run from :func:`main` when it is there. Figures that need CASIA use ../shared/data/casia when it
exists and fall back to the synthetic corpus otherwise; the checkpoint is passed on to figures_part2
(the trained-routing figure of chapter 7).
"""

import argparse
import importlib.util
import json
import os
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
    print("wrote", os.path.relpath(FIG / name, HERE.parent))


def wave_and_spectrogram():
    """Chapter 1: a synthetic utterance as samples, and (looking ahead) as a dB spectrogram."""
    wave = make_corpus(per_class=1, n_speakers=1, seed=0).waves[0]
    fig, (a, b) = plt.subplots(2, 1, figsize=(7.5, 4.8), layout="constrained")
    a.plot(np.arange(len(wave)) / 16000, wave, lw=0.5)
    a.set(xlabel="time (s)", ylabel="amplitude", title="a synthetic 'angry' utterance, 16 kHz")
    db = log_power_spectrogram(wave, FeatureConfig())
    im = b.imshow(db, origin="lower", aspect="auto", extent=[0, len(wave) / 16000, 0, 8000], cmap="magma")
    b.set(xlabel="time (s)", ylabel="frequency (Hz)", title="power spectrogram (dB)")
    fig.colorbar(im, ax=[a, b], shrink=0.5, anchor=(0, 0.0), label="power (dB), bottom panel")
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
    fig, axes = plt.subplots(1, 6, figsize=(13, 2.9), sharey=True)
    for ax, wave, c in zip(axes, waves, CLASSES):
        im = ax.imshow(spectrogram_image(wave, config)[0], cmap="magma", vmin=-1, vmax=1)   # row 0: 8 kHz
        ax.set_title(f"{c} ({len(wave) / 16000:.1f} s)", fontsize=9)
        ax.set_xlabel("time (column)", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0].set_ylabel("row (top: 8 kHz, bottom: 0 Hz)", fontsize=8)
    fig.colorbar(im, ax=axes, shrink=0.8, label="pixel value\n(dB scaled to [−1, 1])")
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
    ax.set(xticks=x, xticklabels=blocks, xlabel="front-end block (input → output channels)",
           ylabel="weights (log scale)", yscale="log", ylim=(100, 600000),
           title="the paper's Table 1 front end")
    ax.legend(fontsize=8, loc="upper left")
    save(fig, "04_table1.png")


def tap_scatter():
    """Chapter 5: the depthwise backward as a scatter of taps — which input pixels two taps read (stride 2,
    padding 1), and how many (tap, output) pairs write into each input pixel, from the real backward."""
    from lcn_np.ops import depthwise_conv2d_backward, depthwise_conv2d_forward
    H, W, stride = 7, 9, 2
    x = np.zeros((1, 1, H, W))
    y, cache = depthwise_conv2d_forward(x, np.ones((1, 1, 3, 3)), None, stride=stride, padding=1)
    Ho, Wo = y.shape[2:]
    counts = depthwise_conv2d_backward(np.ones_like(y), cache)[0][0, 0]     # Σ over taps of w·dy, w = dy = 1
    fig, (a, b) = plt.subplots(1, 2, figsize=(12, 4.4), gridspec_kw=dict(width_ratios=[1, 1.15]))
    grid = np.zeros((H + 2, W + 2))
    grid[1:-1, 1:-1] = 1                                                    # the real pixels; the frame is padding
    a.imshow(grid, cmap="Greys", vmin=0, vmax=4, origin="upper")
    for (p, q), colour, label in (((0, 0), "C0", "tap (0, 0)"), ((2, 2), "C3", "tap (2, 2)"), ((1, 1), "C2", "tap (1, 1)")):
        rows, cols = np.meshgrid(p + stride * np.arange(Ho), q + stride * np.arange(Wo), indexing="ij")
        a.scatter(cols.ravel() + 0.15 * (q - 1), rows.ravel() + 0.15 * (p - 1), s=36, color=colour, label=label)
    a.set_xticks(range(W + 2), ["pad"] + [str(j) for j in range(W)] + ["pad"], fontsize=7)
    a.set_yticks(range(H + 2), ["pad"] + [str(i) for i in range(H)] + ["pad"], fontsize=7)
    a.set_xticks(np.arange(W + 2) - 0.5, minor=True)
    a.set_yticks(np.arange(H + 2) - 0.5, minor=True)
    a.grid(which="minor", color="white", lw=0.8)
    a.tick_params(which="minor", length=0)
    a.set(xlabel="column of the padded input (grey: the image, white frame: zero padding)",
          ylabel="row of the padded input")
    a.set_title(f"what three of the nine taps read: a strided {Ho}×{Wo} slice each;\n"
                "the backward adds w[c,p,q]·dy into the same slice", fontsize=9)
    a.legend(fontsize=7, loc="upper right", bbox_to_anchor=(1.0, -0.18), ncol=3)
    im = b.imshow(counts, cmap="viridis", origin="upper")
    for (i, j), n in np.ndenumerate(counts):
        b.text(j, i, f"{n:.0f}", ha="center", va="center", fontsize=8, color="white" if n < 3 else "black")
    b.set(xlabel="input column", ylabel="input row")
    b.set_title("how many (tap, output) pairs scatter into each input pixel", fontsize=9)
    fig.colorbar(im, ax=b, label="contributions (dx with w = dy = 1)")
    fig.suptitle(f"Depthwise 3×3 backward, {H}×{W} input, stride {stride}, padding 1: nine slice-additions", fontsize=10)
    fig.tight_layout()
    save(fig, "05_tap_scatter.png")


def architecture():
    """Chapter 9: the cn-dsc-dr network at 64×64 — every leaf layer's output shape, read off the model."""
    from matplotlib.patches import FancyBboxPatch
    from lcn_np.model import build
    model = build("cn-dsc-dr", image_size=64)
    shape, stages = (1, 3, 64, 64), [("input image", "spectrogram, 3 identical channels", (3, 64, 64), 0)]
    primary, digit = model.layer("primary"), model.layer("digit")
    I, J, Do = digit.params["w"].shape[0], digit.params["w"].shape[1], digit.params["w"].shape[2]
    what = {"block1": "DSC 3→64: depthwise 3×3, then pointwise 1×1\n(each followed by BatchNorm + ReLU)",
            "block2": "DSC 64→64", "pool1": "max-pool 2×2", "block3": "DSC 64→128", "block4": "DSC 128→128",
            "pool2": "max-pool 2×2",
            "primary": (f"primary capsules: DSC 9×9 stride 2 → {primary.n_types * primary.dim} channels,\n"
                        f"regrouped: {primary.n_types} types × {primary.dim}-D at every position, squash"),
            "digit": (f"emotion capsules: û = w·u, {I}×{J} matrices of {Do}×{primary.dim} → û {I}×{J}×{Do};\n"
                      f"{digit.agreement} routing, R = {digit.iterations}"),
            "length": "lengths |v_j|: the prediction (no classifier layer)"}
    top = [(f"frontend.{n}", layer) for n, layer in model.layer("frontend").layers] + \
          [(n, layer) for n, layer in model.body.layers if n != "frontend"]
    for name, layer in top:                                   # shapes come from the layers themselves
        shape = layer.output_shape(shape)
        stages.append((name, what[name.split(".")[-1]], shape[1:], layer.n_parameters()))
    fig, ax = plt.subplots(figsize=(10, 8.5))
    ax.set_xlim(0, 10.6)
    ax.set_ylim(-0.5, len(stages))
    ax.axis("off")
    for k, (key, text, out_shape, n_params) in enumerate(stages):
        yk = len(stages) - 1 - k
        colour = "#dbe9f6" if key.startswith("frontend") else "#fde0c5" if key in what else "#eeeeee"
        ax.add_patch(FancyBboxPatch((0.2, yk - 0.36), 6.2, 0.72, boxstyle="round,pad=0.02", fc=colour, ec="grey"))
        ax.text(0.35, yk, f"{key}\n{text}" if k else f"{key}: {text}", va="center", fontsize=7.5)
        ax.text(6.7, yk, "×".join(str(s) for s in out_shape), va="center", fontsize=9, family="monospace")
        ax.text(9.0, yk, f"{n_params:,}" if n_params else "—", va="center", fontsize=9, family="monospace")
        if k:
            ax.annotate("", (3.2, yk + 0.37), (3.2, yk + 0.63), arrowprops=dict(arrowstyle="->", color="grey"))
    ax.text(6.7, len(stages) - 0.45, "output (one example)", fontsize=8, weight="bold")
    ax.text(9.0, len(stages) - 0.45, "parameters", fontsize=8, weight="bold")
    ax.set_title(f"cn-dsc-dr at 64×64: {model.n_parameters():,} parameters; shapes from each layer's output_shape",
                 fontsize=10)
    save(fig, "09_architecture.png")


def test_curve(history):
    """(epochs, test UA %) of the epochs whose test set was scored: every epoch in the runs behind the
    figures (``--test-every 1``), the last one only in a run with the default."""
    scored = [e for e in history if e.get("test_ua") is not None]
    return [e["epoch"] for e in scored], [100 * e["test_ua"] for e in scored]


def learning_curves():
    """Chapter 11: training accuracy, validation UA and test UA per epoch of the recipe's runs on CASIA
    (walkthrough/results/recipe/*.json, which keep all three), one panel per run: where the training curve
    pulls away from the other two, the network has started to learn its training set rather than emotions."""
    runs = [p for p in sorted((HERE / "results" / "recipe").glob("*.json"))
            if json.loads(p.read_text())["history"][0].get("val_ua") is not None]
    runs = [p for p in runs if "final-seed" in p.stem] or runs
    if not runs:
        print("skipped 11_curves.png: no walkthrough/results/recipe/*.json with validation histories")
        return
    fig, axes = plt.subplots(1, len(runs), figsize=(3.4 * len(runs), 3.2), sharey=True, squeeze=False)
    for ax, p in zip(axes[0], runs):
        h = json.loads(p.read_text())["history"]
        epochs = [e["epoch"] for e in h]
        ax.plot(epochs, [100 * e["train_acc"] for e in h], label="training accuracy (augmented windows)")
        ax.plot(epochs, [100 * e["val_ua"] for e in h], label="validation UA (chooses best.npz)")
        ax.plot(*test_curve(h), label="test UA (for the record)")
        ax.set(xlabel="epoch", title=p.stem.replace("lcn-", "lcn ").replace("-", " "))
        ax.grid(alpha=0.3)
    axes[0][0].set_ylabel("%")
    axes[0][0].legend(fontsize=7, loc="lower right")
    save(fig, "11_curves.png")


TABLE3_ORDER = ("cnn", "cn", "cn-dsc", "cn-dsc-dr", "cn-dsc-pm", "lcn")


def variant_curves():
    """Chapter 11: one run per Table-3 variant (its first seed), training accuracy against validation and
    test UA per epoch (walkthrough/results/table3/*.json). The gap between the training curve and the
    other two is each variant's overfitting; a training curve that is still rising at the end is underfitting."""
    found = {p.stem: json.loads(p.read_text()) for p in (HERE / "results" / "table3").glob("*.json")}
    variants = [v for v in TABLE3_ORDER if v in found]
    if not variants:
        print("skipped 11_variant_curves.png: no walkthrough/results/table3/*.json")
        return
    cols = 3
    rows = -(-len(variants) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.6 * cols, 3.0 * rows), sharey=True, squeeze=False)
    for ax, v in zip(axes.flat, variants):
        run = found[v]["parts"][0]
        h = run["history"]
        epochs = [e["epoch"] for e in h]
        ax.plot(epochs, [100 * e["train_acc"] for e in h], label="training accuracy (augmented)")
        ax.plot(epochs, [100 * e["val_ua"] for e in h], label="validation UA (chooses best.npz)")
        ax.plot(*test_curve(h), label="test UA (for the record)")
        ax.axvline(run["selected_epoch"], color="grey", lw=0.8, ls=":")
        ax.set(xlabel="epoch", title=f"{v}, seed {run['seed']}")
        ax.grid(alpha=0.3)
    for ax in axes.flat[len(variants):]:
        ax.axis("off")
    for row in axes:
        row[0].set_ylabel("%")
    axes.flat[0].legend(fontsize=7, loc="lower right")
    fig.tight_layout()                       # keeps the top row's "epoch" clear of the titles below
    save(fig, "11_variant_curves.png")


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
    for figure in (wave_and_spectrogram, window_and_frames, six_emotions, table1_bars, tap_scatter, architecture,
                   learning_curves, variant_curves):
        figure()
    part2(args.checkpoint if pathlib.Path(args.checkpoint).exists() else None)


if __name__ == "__main__":
    main()
