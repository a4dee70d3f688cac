"""Points the exporter picks: the coordinates validation runs on, and the real examples shown as
anchors."""
import numpy as np


def validation_coords(std, n=256, seed=0, extreme=5.0):
    """n coordinate vectors: the origin, ±extreme·σ along each axis and on random corners, then
    Gaussian draws up to 3σ. Extremes matter: that is where float error and saturation show."""
    rng = np.random.default_rng(seed)
    k = len(std)
    rows = [np.zeros(k)]
    for i in range(k):
        for s in (-extreme, extreme):
            e = np.zeros(k)
            e[i] = s
            rows.append(e)
    rows += list(rng.choice([-extreme, extreme], size=(8, k)))
    rest = max(n - len(rows), 0)
    rows += list(rng.standard_normal((rest, k)) * rng.uniform(0.5, 3.0, (rest, 1)))
    return (np.array(rows[:max(n, 2 * k + 9)]) * np.asarray(std)).astype(np.float32)


def pick_anchors(labels, n, seed=0, n_total=None):
    """Indices of n real examples, spread across all classes (round-robin over shuffled classes)."""
    rng = np.random.default_rng(seed)
    if labels is None:
        return sorted(rng.choice(n_total, size=min(n, n_total), replace=False).tolist())
    by_class = [rng.permutation(np.flatnonzero(labels == c)).tolist() for c in np.unique(labels)]
    picked = []
    while len(picked) < n and any(by_class):
        for members in by_class:
            if members and len(picked) < n:
                picked.append(members.pop(0))
    return picked
