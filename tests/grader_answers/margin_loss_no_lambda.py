"""Wrong: the absent-class term without its λ."""


def margin_loss_backward(cache):
    T, present, absent, N = cache["T"], cache["present"], cache["absent"], cache["N"]
    return (-2 * T * present + 2 * (1 - T) * absent) / N
