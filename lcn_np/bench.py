"""Benchmarks — ``python -m lcn_np.bench ops`` and ``python -m lcn_np.bench train``.

``ops``: median forward+backward time of each op at the shapes of the paper's front end for image
side 128, batch 16, float32, its achieved GFLOP/s, the machine's own float32 matmul rate measured in
the same run, and — when PyTorch is importable (a yardstick only, never a dependency) — the same op in
PyTorch with the same number of threads, and the ratio ours / PyTorch.

``train``: milliseconds per training step (forward, margin/cross-entropy loss, backward, AdamW step) at
batch 16 for each variant and image size, samples/s, peak memory of the step (tracemalloc), and the
same network written in PyTorch when it is importable.

``--device gpu`` times the same tables on CuPy (inputs moved with ``backend.to_device``, the device
synchronised before and after every timed run, since CuPy returns before its kernels finish), with
PyTorch on CUDA as the yardstick when it is importable with CUDA; without a GPU it says so in one line and
exits with status 2. ``--device standin`` runs the tables on the tests' strict CuPy stand-in (no
yardstick: it checks the GPU code path, its times mean nothing).
"""

import argparse
import os
import sys
import time
import tracemalloc

import numpy

from . import backend, ops
from .backend import array_module, to_device, to_numpy


def median_time(fn, repeats=5, warmup=1, sync=None):
    """Median seconds of ``fn()``; ``sync()`` (waiting for a GPU) runs before and after every timed call."""
    sync = sync or (lambda: None)
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        sync()
        t = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t)
    return float(numpy.median(times))


def device_sync():
    """The synchronisation of the current device (a no-op on the CPU)."""
    xp = backend.device_module()
    return lambda: backend.synchronize(xp)


def import_torch(n_threads):
    """(torch, its device name) for the yardstick on the current device, or (None, reason)."""
    device = backend.get_device()
    if device == "standin":
        return None, "no yardstick on the stand-in"
    try:
        import torch
    except ImportError:
        return None, "PyTorch not importable: no comparison"
    torch.set_num_threads(n_threads)
    if device == "gpu":
        if not torch.cuda.is_available():
            return None, "PyTorch has no CUDA here: no comparison"
        return torch, "cuda"
    return torch, "cpu"


def torch_sync(torch, where):
    return torch.cuda.synchronize if where == "cuda" else None


def threads():
    return int(os.environ.get("OMP_NUM_THREADS", os.cpu_count() or 1))


def matmul_gflops(n=1024, repeats=5):
    a = to_device(numpy.random.default_rng(0).standard_normal((n, n)).astype(numpy.float32))
    return 2 * n ** 3 / median_time(lambda: a @ a, repeats, sync=device_sync()) / 1e9


def op_cases(rng, N=16):
    """(name, our fwd+bwd callable, torch builder, FLOPs of fwd+bwd) at the paper's shapes (S = 128, N = 16),
    the inputs on the current device."""
    f32 = lambda *s: to_device(rng.standard_normal(s).astype(numpy.float32))   # noqa: E731
    x_dw, w_dw = f32(N, 64, 128, 128), f32(64, 1, 3, 3)
    x_pw, w_pw = f32(N, 64, 64, 64), f32(128, 64, 1, 1)
    x_cv, w_cv = f32(N, 64, 32, 32), f32(64, 64, 3, 3)
    x_bn = f32(N, 64, 128, 128)
    g, b = to_device(numpy.ones(64, numpy.float32)), to_device(numpy.zeros(64, numpy.float32))
    u_hat = f32(N, 4608, 6, 16) * 0.05
    u, W = f32(N, 4608, 8) * 0.3, f32(4608, 6, 16, 8) * 0.1
    wave = f32(N, 32000) * 0.1

    def pair(fwd, bwd, *args, **kw):
        def run():
            out, cache = fwd(*args, **kw)
            bwd(array_module(out).ones_like(out), cache)
        return run

    def bn_run():
        out, cache = ops.batchnorm2d_forward(x_bn, g, b, g * 0, g * 1)
        ops.batchnorm2d_backward(array_module(out).ones_like(out), cache)

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
    b = torch.zeros(u_hat.shape[:3], dtype=u_hat.dtype, device=u_hat.device)
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
    win = torch.zeros(512, device=x.device)
    win[56:456] = torch.hamming_window(400, periodic=True, device=x.device)
    return torch.stft(x, 512, 160, window=win, center=False, return_complex=True).abs() ** 2


def torch_time(build, arrays, repeats, where="cpu"):
    import torch
    F = torch.nn.functional
    ts = [torch.from_numpy(to_numpy(a)).to(where).requires_grad_(True) for a in arrays]

    def run():
        out = build(ts, F)
        out.backward(torch.ones_like(out))
    return median_time(run, repeats, sync=torch_sync(torch, where))


def bench_ops(args):
    n_threads = threads()
    rng = numpy.random.default_rng(0)
    torch, where = import_torch(n_threads)
    mm = matmul_gflops()
    print(f"lcn_np ops benchmark: forward+backward, float32, median of {args.repeats}, {n_threads} thread(s), "
          f"device {backend.get_device()}")
    print(f"machine float32 matmul (1024³): {mm:.1f} GFLOP/s" + ("" if torch else f"   ({where})"))
    print(f"{'op':34s} {'ours ms':>9s} {'GFLOP/s':>8s} {'torch ms':>9s} {'ours/torch':>10s}")
    for name, ours, tbuild, arrays, flops in op_cases(rng, args.batch):
        t_ours = median_time(ours, args.repeats, sync=device_sync())
        t_torch = torch_time(tbuild, arrays, args.repeats, where) if torch else float("nan")
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


def peak_mib(step):
    """Peak memory of one ``step()``: host memory (tracemalloc) on the CPU, CuPy's memory pool on a GPU."""
    xp = backend.device_module()
    if xp.__name__ == "cupy":
        pool = xp.get_default_memory_pool()
        step()
        backend.synchronize(xp)
        return pool.total_bytes() / 2 ** 20
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1] / 2 ** 20
    tracemalloc.stop()
    return peak


def bench_train(args):
    from .model import build
    from .optim import Adam
    torch, where = import_torch(threads())
    print(f"lcn_np training-step benchmark: batch {args.batch_size}, float32, median of {args.repeats}, "
          f"{threads()} thread(s), device {backend.get_device()}" + ("" if torch else f"   ({where})"))
    print(f"{'variant':10s} {'size':>5s} {'ms/step':>9s} {'samples/s':>10s} {'peak MiB':>9s} {'torch ms':>9s} {'ours/torch':>10s}")
    rng = numpy.random.default_rng(0)
    for size in args.sizes:
        for variant in args.variants:
            model = build(variant, 6, size, seed=0)
            opt = Adam(model.parameters, lr=1e-3, weight_decay=1e-2)
            x_host = rng.standard_normal((args.batch_size, 3, size, size)).astype(numpy.float32)
            y_host = rng.integers(0, 6, args.batch_size)
            x, y = to_device(x_host), to_device(y_host)

            def step():
                loss, cache = model.loss_forward(model.forward(x), y)
                model.backward(model.loss_backward(cache))
                opt.step()
            step()
            peak = peak_mib(step)
            t = median_time(step, args.repeats, warmup=0, sync=device_sync())
            t_torch, ratio = float("nan"), float("nan")
            if torch and variant in ("cn", "cn-dsc", "cn-dsc-dr", "cnn"):
                net, forward = torch_network(variant, size)
                net.to(where)
                topt = torch.optim.AdamW(net.parameters(), 1e-3)
                tx, ty = torch.from_numpy(x_host).to(where), torch.from_numpy(y_host).to(where)

                def tstep():
                    out = forward(tx)
                    loss = torch.nn.functional.cross_entropy(out, ty) if variant == "cnn" else out.sum()
                    topt.zero_grad()
                    loss.backward()
                    topt.step()
                t_torch = median_time(tstep, args.repeats, sync=torch_sync(torch, where))
                ratio = t / t_torch
            print(f"{variant:10s} {size:5d} {1e3 * t:9.0f} {args.batch_size / t:10.1f} {peak:9.0f} "
                  f"{1e3 * t_torch:9.0f} {ratio:10.2f}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m lcn_np.bench", description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="what", required=True)
    o = sub.add_parser("ops", help="per-op forward+backward times at the paper's shapes")
    o.add_argument("--repeats", type=int, default=5)
    o.add_argument("--batch", type=int, default=16, help=argparse.SUPPRESS)      # tests: small inputs
    t = sub.add_parser("train", help="training-step times per variant and image size")
    t.add_argument("--sizes", type=int, nargs="+", default=[64, 128, 256])
    t.add_argument("--variants", nargs="+", default=["cnn", "cn", "cn-dsc", "cn-dsc-dr", "lcn"])
    t.add_argument("--batch-size", type=int, default=16)
    t.add_argument("--repeats", type=int, default=3)
    for command in (o, t):
        command.add_argument("--device", default="cpu", choices=["cpu", "gpu", "standin"],
                             help="cpu (NumPy), gpu (CuPy); standin: the tests' strict CuPy stand-in")
    args = p.parse_args(argv)
    try:
        backend.set_device(args.device)
    except backend.DeviceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    bench_ops(args) if args.what == "ops" else bench_train(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
