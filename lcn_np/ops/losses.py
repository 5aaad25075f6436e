"""Losses: the capsule margin loss and softmax cross-entropy (for the CNN baseline). Both are means
over the batch and return a 0-d array; their backward takes only the cache.

Margin loss (Sabour et al. 2017, eq. 4), T_k = 1 for the true class:
    L = 1/N Σ_n Σ_k T_k·max(0, m⁺ − ‖v_k‖)² + λ·(1 − T_k)·max(0, ‖v_k‖ − m⁻)²
    ∂L/∂‖v_k‖ = 1/N · (−2·T_k·max(0, m⁺ − ‖v_k‖) + 2·λ·(1 − T_k)·max(0, ‖v_k‖ − m⁻))

Softmax cross-entropy:  L = 1/N Σ_n (logsumexp(z_n) − z_n[y_n]),   ∂L/∂z = (softmax(z) − onehot(y)) / N
"""

from ..backend import array_module
from .checks import expect_ndim


def _check_labels(scores, labels, name):
    expect_ndim(name, scores, 2, "(N, K)")
    xp = array_module(scores)
    labels = xp.asarray(labels)
    if labels.shape != (scores.shape[0],) or labels.dtype.kind not in "iu":
        raise ValueError(f"labels: expected integers of shape ({scores.shape[0]},), got {labels.dtype} {labels.shape}")
    if labels.size and (int(labels.min()) < 0 or int(labels.max()) >= scores.shape[1]):
        raise ValueError(f"labels: every label must be in 0 … {scores.shape[1] - 1}, "
                         f"got values from {int(labels.min())} to {int(labels.max())}")
    if not bool(xp.isfinite(scores).all()):
        raise FloatingPointError(f"{name} contains NaN or inf: the network has diverged "
                                 "(try a lower learning rate)")
    return labels


def one_hot(labels, K, dtype):
    xp = array_module(labels)
    return (labels[:, None] == xp.arange(K)[None, :]).astype(dtype)


def margin_loss_forward(lengths, labels, m_pos=0.9, m_neg=0.1, lam=0.5):
    """lengths: (N, K) capsule lengths, labels: (N,) ints → 0-d loss."""
    labels = _check_labels(lengths, labels, "lengths")
    N, K = lengths.shape
    T = one_hot(labels, K, lengths.dtype)
    present = (m_pos - lengths).clip(0, None)
    absent = (lengths - m_neg).clip(0, None)
    loss = (T * present ** 2 + lam * (1 - T) * absent ** 2).sum() / N
    return loss, {"T": T, "present": present, "absent": absent, "lam": lam, "N": N}


def margin_loss_backward(cache):
    T, present, absent, lam, N = cache["T"], cache["present"], cache["absent"], cache["lam"], cache["N"]
    return (-2 * T * present + 2 * lam * (1 - T) * absent) / N


def softmax_cross_entropy_forward(logits, labels):
    """logits: (N, K), labels: (N,) ints → 0-d mean cross-entropy."""
    labels = _check_labels(logits, labels, "logits")
    xp = array_module(logits)
    N, K = logits.shape
    z = logits - logits.max(axis=1, keepdims=True)
    log_probs = z - xp.log(xp.exp(z).sum(axis=1, keepdims=True))
    T = one_hot(labels, K, logits.dtype)
    loss = -(T * log_probs).sum() / N
    return loss, {"probs": xp.exp(log_probs), "T": T, "N": N}


def softmax_cross_entropy_backward(cache):
    return (cache["probs"] - cache["T"]) / cache["N"]
