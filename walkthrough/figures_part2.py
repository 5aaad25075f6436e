"""Figures for chapters 6–10 of the walkthrough (capsules, routing, margin loss, transfer learning).

    python walkthrough/figures_part2.py [CHECKPOINT]   # writes walkthrough/figures/*.png

Every number drawn comes from the real functions of lcn_np, as in the chapters. Matplotlib is the only
extra dependency (``pip install matplotlib``). The MobileNet filter figure needs
../shared/weights/mobilenet_v1_0.25_224_imagenet_notop.h5 (and h5py) and is skipped without it; the
coupling figure uses a CASIA utterance when ../shared/data/casia exists and a synthetic one otherwise.
"""

import os
import pathlib

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from lcn_np.ops import squash_backward, squash_forward  # noqa: E402
from lcn_np.ops import margin_loss_backward, margin_loss_forward  # noqa: E402
from lcn_np.ops import softmax_cross_entropy_backward, softmax_cross_entropy_forward  # noqa: E402
from lcn_np.ops import routing_coupling, routing_forward  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
FIGURES = ROOT / "walkthrough" / "figures"
SHARED = ROOT.parent / "shared"
WEIGHTS = SHARED / "weights" / "mobilenet_v1_0.25_224_imagenet_notop.h5"
CASIA = SHARED / "data" / "casia"
DPI = 80
CLASSES = ("angry", "fear", "happy", "neutral", "sad", "surprise")


def _save(fig, name):
    FIGURES.mkdir(parents=True, exist_ok=True)
    path = FIGURES / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def squash_curve():
    """|v| against |s| and its derivative d|v|/d|s|, both from squash_forward/backward."""
    t = np.linspace(0, 5, 501)
    s = np.zeros((t.size, 8))
    s[:, 0] = t                                   # vectors along one axis: |s| = t
    v, cache = squash_forward(s)
    length = np.linalg.norm(v, axis=1)
    radial = np.zeros_like(s)
    radial[:, 0] = 1.0                            # upstream gradient along s: ds·ŝ = d|v|/d|s|
    slope = squash_backward(radial, cache)[:, 0]
    fig, (a, b) = plt.subplots(1, 2, figsize=(9, 3.4))
    a.plot(t, length, label="squash: |v| = |s|²/(1+|s|²)")
    a.plot(t, np.minimum(t, 1), ":", color="grey", label="identity, clipped at 1")
    a.axhline(1, color="k", lw=0.5)
    a.set(xlabel="|s|", ylabel="|v|", title="Lengths are squashed into [0, 1)")
    a.legend(loc="lower right", fontsize=8)
    b.plot(t, slope, color="C1", label="d|v|/d|s| = 2|s|/(1+|s|²)²")
    peak = 1 / np.sqrt(3)
    b.axvline(peak, color="grey", ls=":", lw=1)
    b.annotate(f"max {3 * np.sqrt(3) / 8:.2f} at |s| = 1/√3", (peak, 3 * np.sqrt(3) / 8),
               xytext=(1.3, 0.55), arrowprops=dict(arrowstyle="->"), fontsize=8)
    b.set(xlabel="|s|", ylabel="d|v|/d|s|", title="Its slope vanishes at 0 and at ∞")
    b.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    return _save(fig, "06_squash.png")


def _utterance_image(image_size=32):
    """(image (1, 3, S, S), description) for one CASIA utterance, or a synthetic one without CASIA."""
    from lcn_np.data.features import FeatureConfig, spectrogram_image
    config = FeatureConfig(image_size=image_size)
    path = CASIA / "liuchanhg" / "angry" / "201.wav"
    if path.is_file():
        from lcn_np.data.audio import load_audio
        return spectrogram_image(load_audio(path), config)[None], "CASIA liuchanhg/angry/201.wav"
    from lcn_np.data.synthetic import make_corpus
    corpus = make_corpus(per_class=1, n_speakers=1, seed=1)
    return spectrogram_image(corpus.waves[0], config)[None], "a synthetic 'angry' utterance"


def coupling_heatmap():
    """Coupling coefficients c_ij of an (untrained) cn-dsc-dr model, after 1, 2 and 3 routing iterations."""
    from lcn_np.model import build
    image, what = _utterance_image(32)
    panels = []
    for r in (1, 2, 3):
        model = build("cn-dsc-dr", image_size=32, iterations=r)
        model.eval()
        lengths = model.forward(image)
        panels.append((r, model.last_coupling()[0], lengths[0]))
    fig, axes = plt.subplots(1, 3, figsize=(10, 5.2), sharey=True)
    for ax, (r, c, lengths) in zip(axes, panels):
        im = ax.imshow(c, aspect="auto", cmap="viridis", vmin=0, vmax=max(0.5, float(c.max())))
        ax.set_xticks(range(len(CLASSES)), [k[:3] for k in CLASSES])
        ax.set_title(f"R = {r}: lengths max {lengths.max():.2f}", fontsize=9)
        ax.set_xlabel("emotion capsule j")
    axes[0].set_ylabel("primary capsule i (32 types × 1×1 grid)")
    fig.colorbar(im, ax=axes, shrink=0.8, label="c_ij (each row sums to 1)")
    fig.suptitle(f"Cosine routing of an untrained cn-dsc-dr (S = 32) on {what}", fontsize=10)
    return _save(fig, "07_coupling.png")


def coupling_trained(checkpoint):
    """Coupling coefficients and lengths of a trained checkpoint for the first utterance of its test split."""
    import json
    from lcn_np.data.audio import load_audio
    from lcn_np.data.features import spectrogram_image
    from lcn_np.predict import load_model
    from lcn_np.checkpoint import load_checkpoint
    checkpoint = pathlib.Path(checkpoint) if checkpoint else None
    split = checkpoint.parent / "split.json" if checkpoint else None
    if not (checkpoint and checkpoint.is_file() and split.is_file() and CASIA.exists()):
        print("skipped 07_coupling_trained.png: needs a CASIA checkpoint (best.npz beside its split.json)")
        return None
    model, classes, config = load_model(checkpoint)
    meta = load_checkpoint(checkpoint)[2]
    path = pathlib.Path(json.loads(split.read_text())["test"][0])
    wave = load_audio(path if path.is_absolute() else ROOT / path)
    lengths = model.forward(spectrogram_image(wave, config)[None])[0]
    c = model.last_coupling()[0]                                   # (I, J)
    order = np.lexsort((-c.max(axis=1), c.argmax(axis=1)))         # group by favourite emotion, then by certainty
    true = path.parent.name
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.2), gridspec_kw=dict(width_ratios=[3, 1]))
    im = a.imshow(c[order].T, aspect="auto", cmap="viridis", vmin=0, interpolation="nearest")
    a.set_yticks(range(len(classes)), classes)
    a.set_xlabel(f"primary capsule i ({c.shape[0]}, sorted by the emotion it favours)")
    fig.colorbar(im, ax=a, label="c_ij")
    colours = ["C3" if k == true else "C0" for k in classes]
    b.barh(range(len(classes)), lengths, color=colours)
    b.set_yticks(range(len(classes)), classes)
    b.invert_yaxis()
    b.set(xlim=(0, 1), xlabel="capsule length |v_j|", title=f"true: {true}", )
    a.set_title(f"{model.variant} trained on CASIA (epoch {meta['epoch']}, test UA {100 * meta['best']['ua']:.1f} %), "
                f"test utterance {path.parent.parent.name}/{true}/{path.name}", fontsize=9)
    fig.tight_layout()
    favoured = np.bincount(c.argmax(axis=1), minlength=len(classes))
    sidecar = dict(variant=model.variant, epoch=int(meta["epoch"]), test_ua=float(meta["best"]["ua"]),
                   utterance=f"{path.parent.parent.name}/{true}/{path.name}", classes=list(classes),
                   lengths=[round(float(v), 4) for v in lengths], max_coupling=round(float(c.max()), 4),
                   favoured={k: int(n) for k, n in zip(classes, favoured)},
                   source="written by walkthrough/figures_part2.py with the figure")
    (FIGURES / "07_coupling_trained.json").write_text(json.dumps(sidecar, indent=1) + "\n")   # chapter 7 quotes it
    return _save(fig, "07_coupling_trained.png")


def channels_to_capsules():
    """Chapter 6: how the primary capsules' convolution channels regroup into capsule vectors.

    The mapping is read off the real layer: a gradient on one capsule only, sent back through
    PrimaryCapsules.backward, lands on exactly the channels and the position that capsule was made of."""
    from lcn_np.layers import PrimaryCapsules
    layer = PrimaryCapsules(16, n_types=4, dim=3, kernel=3, stride=1, rng=np.random.default_rng(0), dtype="float64")
    x = np.random.default_rng(1).standard_normal((1, 16, 5, 4))
    u = layer.forward(x)                                                   # (1, I, 3): I = 4 types × 3×2 grid
    Ho, Wo = layer.grid
    seen = {}
    layer.conv.backward = lambda dy: seen.setdefault("dy", dy)             # catch the regrouped gradient
    owner = np.full((layer.n_types * layer.dim, Ho * Wo), -1)
    for i in range(u.shape[1]):
        du = np.zeros_like(u)
        du[0, i] = 1.0
        seen.clear()
        layer.backward(du)
        owner[np.abs(seen["dy"][0]).reshape(owner.shape) > 0] = i
    del layer.conv.backward
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4.2), gridspec_kw=dict(width_ratios=[1.3, 1]))
    im = a.imshow(owner, cmap="viridis", aspect="auto")
    for (c, pos), i in np.ndenumerate(owner):
        a.text(pos, c, str(i), ha="center", va="center", fontsize=7, color="white" if i < owner.max() * 0.6 else "black")
    for t in range(1, layer.n_types):
        a.axhline(t * layer.dim - 0.5, color="white", lw=2)
    a.set_xticks(range(Ho * Wo), [f"({r},{c})" for r in range(Ho) for c in range(Wo)])
    a.set_yticks(range(layer.n_types * layer.dim),
                 [f"type {c // layer.dim}, ch {c}" for c in range(layer.n_types * layer.dim)], fontsize=7)
    a.set(xlabel="position (row, col) on the convolution's output grid", ylabel="output channel")
    a.set_title(f"conv output: {layer.n_types} types × {layer.dim} channels at {Ho}×{Wo} positions;\n"
                "the number in each cell is the capsule it becomes part of", fontsize=9)
    fig.colorbar(im, ax=a, label="capsule index i = (type·Ho + row)·Wo + col")
    i = 9
    t, rc = divmod(i, Ho * Wo)
    a.add_patch(plt.Rectangle((rc - 0.5, t * layer.dim - 0.5), 1, layer.dim, fill=False, ec="C3", lw=2.5))
    im2 = b.imshow(u[0], cmap="RdBu_r", aspect="auto", vmin=-1, vmax=1)
    b.add_patch(plt.Rectangle((-0.5, i - 0.5), layer.dim, 1, fill=False, ec="C3", lw=2.5))
    b.set_xticks(range(layer.dim))
    b.set(xlabel="capsule dimension d", ylabel="capsule i")
    b.set_title(f"u = squash(regrouped): {u.shape[1]} capsules × {layer.dim}-D;\n"
                f"red: capsule {i} = type {t} at position ({rc // Wo}, {rc % Wo})", fontsize=9)
    fig.colorbar(im2, ax=b, label="u[i, d] (after squash)")
    fig.suptitle("Primary capsules: channels regrouped into vectors (a small layer; the LCN's has 32 types × 8-D "
                 "on a 4×4 grid)", fontsize=10)
    fig.tight_layout()
    return _save(fig, "06_channels_to_capsules.png")


def routing_unrolled(R=3):
    """Chapter 7: the routing loop unrolled over R iterations; every forward arrow (black) has a backward
    arrow (red, dashed) against it, so û and the logits b collect gradient from every iteration."""
    fig, ax = plt.subplots(figsize=(18, 6.5))
    step = 6.0
    ax.set_xlim(-1.0, step * R + 1.0)
    ax.set_ylim(-1.9, 4.5)
    ax.axis("off")

    def node(xy, text, fc="#f3f3f3"):
        return ax.text(*xy, text, ha="center", va="center", fontsize=8.5,
                       bbox=dict(boxstyle="round,pad=0.3", fc=fc, ec="grey"))

    edge = {"l": (0, 0.5), "r": (1, 0.5), "t": (0.5, 1), "b": (0.5, 0)}

    def at(obj, side):
        """An arrow end: a box's edge ("l", "r", "t", "b"), or a point in data coordinates."""
        return (obj, "data") if isinstance(obj, tuple) else (edge[side], obj)

    def both(a, sa, b, sb, rad=0.0):
        """The forward arrow a → b (box edges sa, sb) and, beside it, the backward arrow b → a."""
        (pa, ca), (pb, cb) = at(a, sa), at(b, sb)
        ax.annotate("", pb, pa, xycoords=cb, textcoords=ca, arrowprops=dict(
            arrowstyle="-|>", color="k", lw=1.2, shrinkA=2, shrinkB=2, connectionstyle=f"arc3,rad={rad}"))
        ax.annotate("", pa, pb, xycoords=ca, textcoords=cb, arrowprops=dict(
            arrowstyle="-|>", color="C3", lw=1.0, ls="--", shrinkA=2, shrinkB=2,
            connectionstyle=f"arc3,rad={-(rad + 0.25) if rad else 0.3}"))   # same side as a curved forward

    sub = "₀₁₂₃₄₅₆₇₈₉"
    ax.plot([-0.8, step * R - 1.0], [3.9, 3.9], color="#e8a36b", lw=10, solid_capstyle="round", zorder=0)
    ax.text(-0.8, 4.25, "û (N, I, J, D): the predictions, used by every iteration", fontsize=9, ha="left")
    b = node((0.0, 0.6), "b₁ = 0", "#dbe9f6")
    for r in range(1, R + 1):
        X = step * (r - 1)
        c = node((X + 2.0, 0.6), f"c{sub[r]} = softmaxⱼ(b{sub[r]})")
        s = node((X + 2.0, 2.3), f"s{sub[r]} = Σᵢ c{sub[r]} û")
        v = node((X + 4.0, 2.3), f"v{sub[r]} = squash(s{sub[r]})", "#e2f0d9" if r == R else "#f3f3f3")
        both(b, "r", c, "l")
        both(c, "t", s, "b")
        both((X + 2.0, 3.8), None, s, "t")
        both(s, "r", v, "l")
        if r < R:
            nb = node((X + step, 0.6), f"b{sub[r + 1]} = b{sub[r]} + a(û, v{sub[r]})", "#dbe9f6")
            both(v, "b", nb, "t")
            both(b, "b", nb, "b", rad=0.3)
            both((X + step + 0.4, 3.8), None, nb, "t")
            b = nb
    loss = node((step * (R - 1) + 6.0, 2.3), "∂ℓ/∂v_R\nfrom the loss", "#e2f0d9")
    ax.annotate("", (1, 0.5), (0, 0.5), xycoords=v, textcoords=loss,
                arrowprops=dict(arrowstyle="-|>", color="C3", lw=1.0, ls="--", shrinkA=2, shrinkB=2))
    ax.plot([], [], "k-", label="forward")
    ax.plot([], [], "C3--", label="backward: every forward arrow, reversed")
    ax.legend(loc="upper right", ncol=2, fontsize=9, frameon=False)
    ax.text(step * R / 2, -1.6,
            "backward, r = R … 1:   dv_r = [r = R]·∂ℓ/∂v + ∂a/∂v·db_{r+1}    ds_r = squash_backward(dv_r)    "
            "dc_r = û·ds_r\n"
            "dû += c_r·ds_r + ∂a/∂û·db_{r+1}    db_r = db_{r+1} + c_r ⊙ (dc_r − Σ_j c_r dc_r)   "
            "(the running sum passes db on unchanged)", ha="center", fontsize=9)
    ax.set_title(f"Dynamic routing unrolled, R = {R}: the gradient returns through every iteration, "
                 "not just the last", fontsize=10)
    return _save(fig, "07_routing_unrolled.png")


def dot_vs_cosine():
    """Couplings of the chapter's toy example under dot and cosine agreement, at two prediction scales."""
    rng = np.random.default_rng(0)
    u_hat = rng.standard_normal((1, 6, 3, 4))
    u_hat[0, :3, 0] = u_hat[0, 0, 0] * np.array([[1.0], [1.1], [0.9]])
    fig, axes = plt.subplots(1, 4, figsize=(10, 2.8), sharey=True)
    k = 0
    for agreement in ("dot", "cosine"):
        for scale in (1, 3):
            _, cache = routing_forward(u_hat * scale, iterations=3, agreement=agreement)
            ax = axes[k]
            im = ax.imshow(routing_coupling(cache)[0], cmap="viridis", vmin=0, vmax=1, aspect="auto")
            for (i, j), val in np.ndenumerate(routing_coupling(cache)[0]):
                ax.text(j, i, f"{val:.2f}", ha="center", va="center", fontsize=7,
                        color="white" if val < 0.6 else "black")
            ax.set_title(f"{agreement}, û × {scale}", fontsize=9)
            ax.set_xticks(range(3))
            ax.set_xlabel("output j")
            k += 1
    axes[0].set_ylabel("input i")
    fig.suptitle("Coupling coefficients after 3 iterations: dot depends on the scale of û, cosine does not",
                 fontsize=10)
    fig.tight_layout()
    fig.colorbar(im, ax=axes, shrink=0.9, pad=0.02, label="c_ij (each row sums to 1)")
    return _save(fig, "07_dot_vs_cosine.png")


def margin_loss_curves():
    """Both halves of the margin loss and their gradients against |v|; cross-entropy for comparison."""
    lengths = np.linspace(0, 1, 201)
    # One call per length: class 0 is the true class. [[l, 0]] isolates the true-class half (the other
    # capsule, at 0, is below m⁻), [[1, l]] the other-class half (the true capsule, at 1, is above m⁺).
    present = np.array([float(margin_loss_forward(np.array([[l, 0.0]]), np.array([0]))[0]) for l in lengths])
    absent = np.array([float(margin_loss_forward(np.array([[1.0, l]]), np.array([0]))[0]) for l in lengths])
    batch = np.stack([lengths, lengths], axis=1)                 # N rows, true class 0
    _, cache = margin_loss_forward(batch, np.zeros(lengths.size, dtype=int))
    grad = margin_loss_backward(cache) * lengths.size            # the loss is a mean over the batch
    z = np.linspace(-4, 6, 201)
    ce_grad = []
    for margin in z:
        _, ce_cache = softmax_cross_entropy_forward(np.array([[margin, 0.0]]), np.array([0]))
        ce_grad.append(softmax_cross_entropy_backward(ce_cache)[0, 0])
    fig, (a, b, c) = plt.subplots(1, 3, figsize=(11, 3.3))
    a.plot(lengths, present, label="true class: max(0, 0.9 − |v|)²")
    a.plot(lengths, absent, label="other class: 0.5·max(0, |v| − 0.1)²")
    a.axvline(0.9, color="C0", ls=":", lw=1)
    a.axvline(0.1, color="C1", ls=":", lw=1)
    a.set(xlabel="capsule length |v|", ylabel="loss", title="Margin loss (m⁺=0.9, m⁻=0.1, λ=0.5)")
    a.legend(fontsize=7)
    b.plot(lengths, grad[:, 0], label="true class")
    b.plot(lengths, grad[:, 1], label="other class")
    b.axhline(0, color="k", lw=0.5)
    b.set(xlabel="capsule length |v|", ylabel="∂L/∂|v|", title="Zero gradient beyond the margins")
    b.legend(fontsize=7)
    c.plot(z, ce_grad, color="grey")
    c.axhline(0, color="k", lw=0.5)
    c.set(xlabel="logit margin z_true − z_other", ylabel="∂L/∂z_true",
          title="Cross-entropy: never exactly zero")
    fig.tight_layout()
    return _save(fig, "08_margin.png")


def mobilenet_filters():
    """The eight 3×3×3 conv1 filters of ImageNet MobileNet-v1 α = 0.25, as RGB and as seen by a grey image."""
    if not WEIGHTS.is_file():
        print(f"skipped 10_filters.png: {WEIGHTS} is missing")
        return None
    from lcn_np.mobilenet import mobilenet_frontend
    from lcn_np.weights import load_pretrained_frontend
    frontend, _, _ = mobilenet_frontend(32)
    load_pretrained_frontend(frontend, WEIGHTS)
    w = np.asarray(dict(frontend.named())["conv1"].params["w"], dtype=np.float64)   # (8, 3, 3, 3)
    fig, axes = plt.subplots(2, 8, figsize=(10, 3.0))
    rgb_scale = 2 * np.abs(w).max()                                  # one scale for all filters: grey = 0
    grey_lim = np.abs(w.sum(axis=1)).max()
    for o in range(w.shape[0]):
        rgb = w[o].transpose(1, 2, 0)
        axes[0, o].imshow(0.5 + rgb / rgb_scale, interpolation="nearest")
        grey = w[o].sum(axis=0)                                      # the filter on a 3-identical-channel image
        im = axes[1, o].imshow(grey, cmap="RdBu_r", vmin=-grey_lim, vmax=grey_lim, interpolation="nearest")
        axes[0, o].set_title(f"filter {o}\n|w| = {np.linalg.norm(w[o]):.2f}", fontsize=8)
        for ax in axes[:, o]:
            ax.set_xticks([])
            ax.set_yticks([])
    axes[0, 0].set_ylabel("RGB", fontsize=8)
    axes[1, 0].set_ylabel("sum of RGB\n(grey input)", fontsize=8)
    fig.suptitle("MobileNet-v1 α=0.25 conv1 filters (ImageNet); RGB row: grey = 0, "
                 f"full colour = ±{rgb_scale / 2:.2f}", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.92, 1))
    fig.colorbar(im, cax=fig.add_axes([0.93, 0.08, 0.012, 0.36]), label="Σ RGB weight")
    return _save(fig, "10_filters.png")


def main(checkpoint=None):
    """Write every figure of chapters 6–10 into walkthrough/figures/; returns the paths written.

    checkpoint: a cn-dsc-dr/lcn checkpoint trained on CASIA (best.npz with its split.json beside it) for
    07_coupling_trained.png; that figure is skipped (the committed one kept) without it.
    """
    written = []
    for make in (squash_curve, channels_to_capsules, coupling_heatmap, lambda: coupling_trained(checkpoint),
                 routing_unrolled, dot_vs_cosine, margin_loss_curves, mobilenet_filters):
        path = make()
        if path is not None:
            print("wrote", os.path.relpath(path, ROOT))
            written.append(path)
    return written


if __name__ == "__main__":
    import sys
    main(sys.argv[1] if len(sys.argv) > 1 else None)
