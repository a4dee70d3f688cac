"""GPTQ rounding of a Linear weight to int8 with one scale per row (Frantar et al., 2022).

Round-to-nearest moves each weight by up to half a step, independently, and those errors add up
in every output. GPTQ rounds the input columns one at a time and spreads each column's rounding
error over the columns not yet rounded, weighted by how the layer's inputs co-vary
(H = X^T X + damping): the layer's outputs on inputs like X stay close to the float32 ones with
the very same int8 codes and scales that round-to-nearest would store, so the file and the
runtime do not change, only which codes are picked.

Measured on the FashionMNIST conv decoder, whose 3136 x 256 Gemm holds 3.2 of its 3.4 MB
(benchmarks/weights.py; README, Benchmarks): max pixel difference against float32 4.0/255 at 256
validation coords incl. +-5 sigma, against 23.6/255 for round-to-nearest of every big weight.
Damping 1e-3 of the mean diagonal was the best of those tried.
"""
import numpy as np

DAMP = 1e-3


def gptq_int8_rows(w, x, damp=DAMP):
    """int8 codes for `w` (out, in) that keep w @ x.T close on inputs like `x` (N, in).

    Scales are round-to-nearest's (`weights.int8_rows`: absmax / 127 per row), so the codes stay
    in [-127, 127]. Columns are rounded in order of decreasing input energy (diag H). Returns
    (q int8 (out, in), scale float32 (out,))."""
    from .weights import int8_rows

    _, scale = int8_rows(w)
    W = np.asarray(w, np.float64).copy()
    x = np.asarray(x, np.float64).reshape(-1, W.shape[1])
    n = W.shape[1]
    H = x.T @ x
    d = np.diag(H).copy()
    dead = d == 0                                  # an input that is always 0: its weights do nothing
    H[dead, dead] = 1
    W[:, dead] = 0
    H += damp * max(float(d.mean()), 1e-12) * np.eye(n)
    perm = np.argsort(-np.diag(H), kind="stable")
    W, H = W[:, perm], H[perm][:, perm]
    U = np.linalg.cholesky(np.linalg.inv(H)).T     # upper Cholesky factor of H^-1
    s = scale.astype(np.float64)
    q = np.zeros(W.shape, np.int8)
    for i in range(n):
        c = np.clip(np.round(W[:, i] / s), -127, 127)
        q[:, i] = c
        err = (W[:, i] - c * s) / U[i, i]
        W[:, i + 1:] -= np.outer(err, U[i, i + 1:])
    return q[:, np.argsort(perm)], scale


class _Stop(Exception):
    pass


def layer_inputs(module, layer, *args):
    """The input `layer` (a submodule of `module`) gets when `module(*args)` runs, as a numpy
    array; the forward stops there."""
    import torch
    got = []

    def hook(_, inputs):
        got.append(inputs[0].detach().cpu().numpy())
        raise _Stop

    handle = layer.register_forward_pre_hook(hook)
    try:
        with torch.no_grad():
            module(*args)
    except _Stop:
        pass
    finally:
        handle.remove()
    if not got:
        raise ValueError("the layer was not called by the module's forward")
    return got[0]
