"""Hand-written optimisers and learning-rate schedules.

SGD with momentum (PyTorch's form), for each parameter θ with gradient g:
    g ← g + λ·θ  (L2 weight decay),   m ← μ·m + g,   θ ← θ − η·m        (Nesterov: θ ← θ − η·(g + μ·m))

Adam (Kingma & Ba 2015), step t:
    m ← β₁m + (1−β₁)g,   v ← β₂v + (1−β₂)g²,   m̂ = m/(1−β₁ᵗ),   v̂ = v/(1−β₂ᵗ),   θ ← θ − η·m̂/(sqrt(v̂)+ε)
    decoupled=True (AdamW, Loshchilov & Hutter 2019): θ ← θ − η·λ·θ as a separate step, instead of
    adding λθ to g (which Adam would rescale per parameter, weakening the decay where gradients are large).

Schedules map a step number to a learning rate: constant, cosine (with linear warm-up) and one-cycle
(Smith 2018: warm up from max_lr/25 to max_lr over the first 30 % of steps, then cosine down to max_lr/1e4).

Parameters whose names start with a prefix in ``frozen`` are left untouched (``--freeze-frontend``);
those whose names start with a prefix in ``lr_scale`` take the learning rate times its factor
(``--frontend-lr 0.1``: fine-tune the ImageNet front end ten times more gently than the new capsule head —
"discriminative fine-tuning", Howard & Ruder 2018).

Weight averaging (Polyak & Juditsky 1992; Keras' ``use_ema``): with ``ema = β > 0`` every step also keeps

    θ̄ ← β·θ̄ + (1−β)·θ        (θ̄ starts at θ; β = 0.995 averages over the last ~1/(1−β) = 200 steps)

and ``with opt.averaged():`` puts θ̄ into the parameters for the block (evaluation, the best checkpoint).
The average smooths the last steps' noise out of the weights, so the epoch-to-epoch figures a validation
set chooses from jump less. It is an optimiser slot ("ema"), so checkpoints save and resume it.
"""

import contextlib
import math

import numpy

from .backend import array_module, to_numpy
from .parallel import map_chunks


class Optimizer:
    def __init__(self, parameters, lr, weight_decay=0.0, ema=0.0):
        self.parameters = parameters          # callable returning {name: (array, grad)} — read fresh every step
        self.lr, self.weight_decay = lr, weight_decay
        if not 0.0 <= ema < 1.0:
            raise ValueError(f"ema must be in [0, 1), got {ema}")
        self.ema = ema
        self.frozen = set()
        self.lr_scale = {}                    # name prefix → factor on lr (and on the decoupled decay)
        self.state, self.t = {}, 0

    def lr_for(self, name):
        """The learning rate of parameter ``name``: ``lr`` times the factor of its prefix, if any."""
        for prefix, factor in self.lr_scale.items():
            if name.startswith(prefix):
                return self.lr * factor
        return self.lr

    def update_average(self):
        """θ̄ ← β·θ̄ + (1−β)·θ for every trained parameter (called at the end of ``step``)."""
        if not self.ema:
            return
        for name, p, _ in self.trainable():
            slots = self.state.setdefault(name, {})
            if "ema" not in slots:
                slots["ema"] = p.copy()
            else:
                avg = slots["ema"]
                avg *= self.ema
                avg += (1 - self.ema) * p

    def swap_average(self):
        """Exchange every parameter with its average, in place (a second call swaps back)."""
        params = self.parameters()
        for name, slots in self.state.items():
            if "ema" in slots:
                p, avg = params[name][0], slots["ema"]
                tmp = p.copy()
                p[...] = avg
                avg[...] = tmp

    @contextlib.contextmanager
    def averaged(self):
        """Within the block the parameters hold their averages (without ``ema``: nothing changes)."""
        self.swap_average()
        try:
            yield
        finally:
            self.swap_average()

    def trainable(self):
        for name, (p, g) in self.parameters().items():
            if not any(name.startswith(prefix) for prefix in self.frozen):
                yield name, p, g

    def state_dict(self):
        """Flat name → NumPy array (for checkpoints)."""
        out = {"t": numpy.array(self.t)}
        for name, slots in self.state.items():
            for k, v in slots.items():
                out[f"{k}/{name}"] = to_numpy(v)
        return out

    def load_state_dict(self, state):
        self.t = int(state["t"])
        self.state = {}
        params = self.parameters()
        for key, v in state.items():
            if key == "t":
                continue
            slot, name = key.split("/", 1)
            if name not in params:
                raise ValueError(f"optimizer state names parameter {name!r}, which this model does not have")
            xp = array_module(params[name][0])
            self.state.setdefault(name, {})[slot] = xp.asarray(v)


class SGD(Optimizer):
    def __init__(self, parameters, lr=0.01, momentum=0.9, weight_decay=0.0, nesterov=False, ema=0.0):
        super().__init__(parameters, lr, weight_decay, ema)
        self.momentum, self.nesterov = momentum, nesterov

    def step(self):
        self.t += 1
        for name, p, g in self.trainable():
            if self.weight_decay:
                g = g + self.weight_decay * p
            slots = self.state.setdefault(name, {})
            m = slots.get("m")
            m = g.copy() if m is None else self.momentum * m + g
            slots["m"] = m
            lr = self.lr_for(name)
            p -= (lr * (g + self.momentum * m) if self.nesterov else lr * m).astype(p.dtype)
        self.update_average()


class Adam(Optimizer):
    def __init__(self, parameters, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=True,
                 ema=0.0):
        super().__init__(parameters, lr, weight_decay, ema)
        self.betas, self.eps, self.decoupled = betas, eps, decoupled

    def step(self):
        self.t += 1
        b1, b2 = self.betas
        bc1, bc2 = 1 - b1 ** self.t, 1 - b2 ** self.t
        for name, p, g in self.trainable():
            if self.weight_decay and not self.decoupled:
                g = g + self.weight_decay * p
            slots = self.state.setdefault(name, {})
            if "m" not in slots:
                slots["m"], slots["v"] = array_module(p).zeros_like(p), array_module(p).zeros_like(p)
            lr = self.lr_for(name)
            decay = lr * self.weight_decay if self.decoupled else 0.0
            # the update of the module docstring, in place and on chunks of the flattened arrays:
            # m̂ / (sqrt(v̂) + ε) = (m / bc1) / (sqrt(v) / sqrt(bc2) + ε)
            arrays = (p, g, slots["m"], slots["v"])
            update = lambda p, g, m, v: _adam_update(p, g, m, v, b1, b2, bc1, bc2, lr, self.eps, decay)  # noqa: E731
            if all(a.flags.c_contiguous for a in arrays):        # flat views: any parameter shape chunks well
                map_chunks(update, *(a.reshape(-1) for a in arrays))
            else:
                update(*arrays)
        self.update_average()


def _adam_update(p, g, m, v, b1, b2, bc1, bc2, lr, eps, decay):
    """One Adam(W) update of a slice, in place: m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²,
    p ← p − η·λ·p (decoupled decay, when ``decay`` = η·λ ≠ 0),  p ← p − η·(m/bc1)/(sqrt(v/bc2) + ε)."""
    xp = array_module(p)
    m *= b1
    m += (1 - b1) * g
    v *= b2
    tmp = g * g
    tmp *= 1 - b2
    v += tmp
    xp.sqrt(v, out=tmp)
    tmp *= 1 / bc2 ** 0.5
    tmp += eps
    xp.divide(m, tmp, out=tmp)
    tmp *= lr / bc1
    if decay:
        p -= decay * p
    p -= tmp


def make_optimizer(name, parameters, lr, weight_decay=0.0, ema=0.0):
    """'sgd', 'adam' (L2 decay added to the gradient) or 'adamw' (decoupled decay); ``ema``: see above."""
    if name == "sgd":
        return SGD(parameters, lr, momentum=0.9, weight_decay=weight_decay, ema=ema)
    if name in ("adam", "adamw"):
        return Adam(parameters, lr, weight_decay=weight_decay, decoupled=name == "adamw", ema=ema)
    raise ValueError(f"optimizer must be sgd, adam or adamw, got {name!r}")


def lr_at(step, total_steps, max_lr, schedule="onecycle", warmup=0.3):
    """The learning rate at ``step`` (0-based) of ``total_steps``."""
    if schedule == "constant":
        return max_lr
    total = max(total_steps, 1)
    if schedule == "cosine":
        w = int(0.05 * total)
        if step < w:
            return max_lr * (step + 1) / w
        return 0.5 * max_lr * (1 + math.cos(math.pi * (step - w) / max(total - w, 1)))
    if schedule == "onecycle":
        up = max(int(warmup * total), 1)
        start, end = max_lr / 25, max_lr / 1e4
        if step < up:
            return start + (max_lr - start) * step / up
        frac = (step - up) / max(total - up, 1)
        return end + (max_lr - end) * 0.5 * (1 + math.cos(math.pi * min(frac, 1.0)))
    raise ValueError(f"schedule must be constant, cosine or onecycle, got {schedule!r}")


def clip_grad_norm(parameters, max_norm):
    """Scale all gradients in place so that their global L2 norm is at most ``max_norm``; returns the norm."""
    named = parameters()
    total = math.sqrt(sum(float((g * g).sum()) for _, g in named.values()))
    if not math.isfinite(total):
        bad = [name for name, (_, g) in named.items() if not bool(array_module(g).isfinite(g).all())]
        raise FloatingPointError(f"the gradient of {', '.join(bad[:3])} is NaN or infinite")
    grads = [g for _, g in named.values()]
    if total > max_norm:
        for g in grads:
            g *= max_norm / (total + 1e-12)
    return total
