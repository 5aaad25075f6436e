"""Benchmarks — ``python -m lcn_np.bench ops`` and ``python -m lcn_np.bench train``.

``ops``: median forward+backward time of each op at the shapes of the paper's front end for image
side 128, batch 16, float32, its achieved GFLOP/s, the machine's own float32 matmul rate measured in
the same run, and — when PyTorch is importable (a yardstick only, never a dependency) — the same op in
PyTorch with the same number of threads, and the ratio ours / PyTorch.

``train``: milliseconds per training step (forward, margin/cross-entropy loss, backward, AdamW step) at
batch 16 for each variant and image size, samples/s, peak memory of the step (tracemalloc), and the
same network written in PyTorch when it is importable.
"""

import argparse
import os
import time
import tracemalloc

import numpy

from . import ops


def median_time(fn, repeats=5, warmup=1):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(numpy.median(times))


def threads():
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def matmul_gflops(n=1024, repeats=5):
    a = numpy.random.default_rng(0).standard_normal((n, n)).astype(numpy.float32)
    return 2 * n ** 3 / median_time(lambda: a @ a, repeats) / 1e9


def op_cases(rng):
    """(name, our fwd+bwd callable, torch builder, FLOPs of fwd+bwd) at the paper's shapes (S = 128, N = 16)."""
    f32 = lambda *s: rng.standard_normal(s).astype(numpy.float32)   # noqa: E731
    N = 16
    x_dw, w_dw = f32(N, 64, 128, 128), f32(64, 1, 3, 3)
    x_pw, w_pw = f32(N, 64, 64, 64), f32(128, 64, 1, 1)
    x_cv, w_cv = f32(N, 64, 32, 32), f32(64, 64, 3, 3)
    x_bn = f32(N, 64, 128, 128)
    g, b = numpy.ones(64, numpy.float32), numpy.zeros(64, numpy.float32)
    u_hat = f32(N, 4608, 6, 16) * 0.05
    u, W = f32(N, 4608, 8) * 0.3, f32(4608, 6, 16, 8) * 0.1
    wave = f32(N, 32000) * 0.1

    def pair(fwd, bwd, *args, **kw):
        def run():
            out, cache = fwd(*args, **kw)
            bwd(numpy.ones_like(out), cache)
        return run

    def bn_run():
        out, cache = ops.batchnorm2d_forward(x_bn, g, b, numpy.zeros(64, numpy.float32), numpy.ones(64, numpy.float32))
        ops.batchnorm2d_backward(numpy.ones_like(out), cache)

    cases = [
        ("depthwise 3×3 (16,64,128,128)", pair(ops.depthwise_conv2d_forward, ops.depthwise_conv2d_backward, x_dw, w_dw, None, 1, 1),
         lambda t, F: F.conv2d(t[0], t[1], padding=1, groups=64), [x_dw, w_dw], 3 * 2 * x_dw.size * 9),
        ("pointwise 64→128 (16,64,64,64)", pair(ops.pointwise_conv2d_forward, ops.pointwise_conv2d_backward, x_pw, w_pw),
         lambda t, F: F.conv2d(t[0], t[1]), [x_pw, w_pw], 3 * 2 * N * 64 * 64 * 64 * 128),
        ("conv 3×3 64→64 (16,64,32,32)", pair(ops.conv2d_forward, ops.conv2d_backward, x_cv, w_cv, None, 1, 1),
         lambda t, F: F.conv2d(t[0], t[1], padding=1), [x_cv, w_cv], 3 * 2 * N * 32 * 32 * 64 * 64 * 9),
        ("max-pool 2×2 (16,64,128,128)", pair(ops.maxpool2d_forward, ops.maxpool2d_backward, x_dw),
         lambda t, F: F.max_pool2d(t[0], 2), [x_dw], 0),
        ("batchnorm (16,64,128,128)", bn_run,
         lambda t, F: F.batch_norm(t[0], None, None, training=True), [x_bn], 0),
        ("capsule predict 4608×6×16×8", pair(ops.capsule_predict_forward, ops.capsule_predict_backward, u, W),
         lambda t, F: __import__("torch").einsum("ijdk,nik->nijd", t[1], t[0]), [u, W], 3 * 2 * N * 4608 * 6 * 16 * 8),
        ("squash (16,4608,8)", pair(ops.squash_forward, ops.squash_backward, u),
         lambda t, F: torch_squash(t[0]), [u], 0),
        ("routing dot, 3 it. 4608×6×16", pair(ops.routing_forward, ops.routing_backward, u_hat, 3, "dot"),
         lambda t, F: torch_routing(t[0], 3, "dot"), [u_hat], 0),
        ("routing cosine, 3 it. 4608×6×16", pair(ops.routing_forward, ops.routing_backward, u_hat, 3, "cosine"),
         lambda t, F: torch_routing(t[0], 3, "cosine"), [u_hat], 0),
        ("power spectrogram (16, 32000)", pair(ops.power_spectrogram_forward, ops.power_spectrogram_backward, wave),
         lambda t, F: torch_spectrogram(t[0]), [wave], 0),
    ]
    return cases


# ------------------------------------------------------------------------------------------------------
# PyTorch twins (yardstick only)
def torch_squash(s, eps=1e-7):
    n = (s * s).sum(-1, keepdim=True)
    return s * n / ((1 + n) * (n + eps).sqrt())


def torch_routing(u_hat, iterations, agreement, eps=1e-7):
    import torch
    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype)
    for r in range(iterations):
        c = torch.softmax(b, dim=2)
        v = torch_squash((c[..., None] * u_hat).sum(1))
        if r < iterations - 1:
            a = (u_hat * v[:, None]).sum(-1)
            if agreement == "cosine":
                a = a / (((u_hat ** 2).sum(-1) + eps).sqrt() * ((v ** 2).sum(-1) + eps).sqrt()[:, None])
            b = b + a
    return v


def torch_spectrogram(x):
    import torch
    win = torch.zeros(512)
    win[56:456] = torch.hamming_window(400, periodic=True)
    return torch.stft(x, 512, 160, window=win, center=False, return_complex=True).abs() ** 2


def torch_time(build, arrays, repeats):
    import torch
    F = torch.nn.functional
    ts = [torch.from_numpy(a).requires_grad_(True) for a in arrays]

    def run():
        out = build(ts, F)
        out.backward(torch.ones_like(out))
    return median_time(run, repeats)


def bench_ops(args):
    n_threads = threads()
    rng = numpy.random.default_rng(0)
    try:
        import torch
        torch.set_num_threads(n_threads)
    except ImportError:
        torch = None
    mm = matmul_gflops()
    print(f"lcn_np ops benchmark: forward+backward, float32, median of {args.repeats}, {n_threads} thread(s)")
    print(f"machine float32 matmul (1024³): {mm:.1f} GFLOP/s" + ("" if torch else "   (PyTorch not importable: no comparison)"))
    print(f"{'op':34s} {'ours ms':>9s} {'GFLOP/s':>8s} {'torch ms':>9s} {'ours/torch':>10s}")
    for name, ours, tbuild, arrays, flops in op_cases(rng):
        t_ours = median_time(ours, args.repeats)
        t_torch = torch_time(tbuild, arrays, args.repeats) if torch else float("nan")
        rate = f"{flops / t_ours / 1e9:8.1f}" if flops else f"{'':>8s}"
        print(f"{name:34s} {1e3 * t_ours:9.1f} {rate} {1e3 * t_torch:9.1f} {t_ours / t_torch:10.2f}", flush=True)


# ------------------------------------------------------------------------------------------------------
def torch_network(variant, image_size, n_classes=6):
    """The same network in PyTorch (random init), returning a function x → scores."""
    import torch
    nn = torch.nn

    def dsc(cin, cout):
        return [nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False), nn.BatchNorm2d(cin), nn.ReLU(),
                nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    def conv(cin, cout):
        return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU()]

    block = conv if variant in ("cn", "cnn") else dsc
    front = nn.Sequential(*block(3, 64), *block(64, 64), nn.MaxPool2d(2), *block(64, 128), *block(128, 128),
                          nn.MaxPool2d(2))
    if variant == "cnn":
        net = nn.Sequential(front, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(0.5), nn.Linear(128, n_classes))
        return net, lambda x: net(x)
    from .model import primary_capsule_grid
    grid = image_size // 4
    k, n_grid = primary_capsule_grid(grid)
    primary = (nn.Sequential(nn.Conv2d(128, 256, k, 2)) if variant == "cn" else
               nn.Sequential(nn.Conv2d(128, 128, k, 2, groups=128, bias=False), nn.Conv2d(128, 256, 1)))
    W = nn.Parameter(torch.randn(32 * n_grid * n_grid, n_classes, 16, 8) * 0.01)
    agreement = "cosine" if variant == "cn-dsc-dr" else "dot"
    mods = nn.ModuleList([front, primary])

    def forward(x):
        y = primary(front(x))
        N = y.shape[0]
        u = y.reshape(N, 32, 8, n_grid, n_grid).permute(0, 1, 3, 4, 2).reshape(N, -1, 8)
        u_hat = torch.einsum("ijdk,nik->nijd", W, torch_squash(u))
        v = torch_routing(u_hat, 3, agreement)
        return ((v ** 2).sum(-1) + 1e-7).sqrt()
    mods.W = W
    return mods, forward


def bench_train(args):
    from .model import build
    from .optim import Adam
    try:
        import torch
        torch.set_num_threads(threads())
    except ImportError:
        torch = None
    print(f"lcn_np training-step benchmark: batch {args.batch_size}, float32, median of {args.repeats}, "
          f"{threads()} thread(s)")
    print(f"{'variant':10s} {'size':>5s} {'ms/step':>9s} {'samples/s':>10s} {'peak MiB':>9s} {'torch ms':>9s} {'ours/torch':>10s}")
    rng = numpy.random.default_rng(0)
    for size in args.sizes:
        for variant in args.variants:
            model = build(variant, 6, size, seed=0)
            opt = Adam(model.parameters, lr=1e-3, weight_decay=1e-2)
            x = rng.standard_normal((args.batch_size, 3, size, size)).astype(numpy.float32)
            y = rng.integers(0, 6, args.batch_size)

            def step():
                loss, cache = model.loss_forward(model.forward(x), y)
                model.backward(model.loss_backward(cache))
                opt.step()
            step()
            tracemalloc.start()
            step()
            peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
            tracemalloc.stop()
            t = median_time(step, args.repeats, warmup=0)
            t_torch, ratio = float("nan"), float("nan")
            if torch and variant in ("cn", "cn-dsc", "cn-dsc-dr", "cnn"):
                net, forward = torch_network(variant, size)
                topt = torch.optim.AdamW(net.parameters(), 1e-3)
                tx, ty = torch.from_numpy(x), torch.from_numpy(y)

                def tstep():
                    out = forward(tx)
                    loss = torch.nn.functional.cross_entropy(out, ty) if variant == "cnn" else out.sum()
                    topt.zero_grad()
                    loss.backward()
                    topt.step()
                t_torch = median_time(tstep, args.repeats)
                ratio = t / t_torch
            print(f"{variant:10s} {size:5d} {1e3 * t:9.0f} {args.batch_size / t:10.1f} {peak:9.0f} "
                  f"{1e3 * t_torch:9.0f} {ratio:10.2f}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lcn_np.bench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    o = sub.add_parser("ops", help="per-op forward+backward times at the paper's shapes")
    o.add_argument("--repeats", type=int, default=5)
    t = sub.add_parser("train", help="training-step times per variant and image size")
    t.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    t.add_argument("--variants", nargs="+", default=["cnn", "cn", "cn-dsc", "cn-dsc-dr", "lcn"])
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--repeats", type=int, default=3)
    args = p.parse_args(argv)
    bench_ops(args) if args.what == "ops" else bench_train(args)


if __name__ == "__main__":
    main()
