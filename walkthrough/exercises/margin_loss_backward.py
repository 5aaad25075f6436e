"""Exercise: the backward pass of the capsule margin loss.

Grade it with:  python -m lcn_np.grade walkthrough/exercises/margin_loss_backward.py
Stuck? Add --hint 1 (then 2, then 3) for hints that lead towards the answer without giving it.

The forward pass (given, lcn_np.ops.margin_loss_forward), for lengths (N, K) and integer labels (N,):

    L = 1/N Σ_n Σ_k  T_k·max(0, m⁺ − ‖v_k‖)²  +  λ·(1 − T_k)·max(0, ‖v_k‖ − m⁻)²

with T the one-hot labels, m⁺ = 0.9, m⁻ = 0.1, λ = 0.5. It stores
cache = {"T": T, "present": max(0, m⁺ − ‖v‖), "absent": max(0, ‖v‖ − m⁻), "lam": λ, "N": N}.

Your task: return dlengths = ∂L/∂‖v‖, shape (N, K), the dtype of the lengths. A loss's backward takes
only the cache (the upstream gradient of a scalar loss is 1).
"""

from lcn_np.ops import margin_loss_forward  # noqa: F401


def margin_loss_backward(cache):
    T, present, absent, lam, N = cache["T"], cache["present"], cache["absent"], cache["lam"], cache["N"]
    # ---- YOUR CODE HERE ----
    raise NotImplementedError("write margin_loss_backward")
    # ---- END OF YOUR CODE ----
