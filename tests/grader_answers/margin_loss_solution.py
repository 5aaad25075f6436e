"""Reference solution: margin_loss_backward, written from the exercise's docstring."""


def margin_loss_backward(cache):
    T, present, absent, lam, N = cache["T"], cache["present"], cache["absent"], cache["lam"], cache["N"]
    # d/d|v| of max(0, m⁺ − |v|)² is −2·max(0, m⁺ − |v|); of max(0, |v| − m⁻)² it is +2·max(0, |v| − m⁻)
    return (T * (-2 * present) + lam * (1 - T) * (2 * absent)) / N
