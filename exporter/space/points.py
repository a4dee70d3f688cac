"""Points the exporter picks (the coordinates validation runs on, the real examples shown as
anchors and on the latent map) and the references the browser's map panels are tested against
(nearest examples, typicality)."""
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


def map_points(labels, n, n_total, seed=0):
    """Training rows of the latent map: n of them, stratified by label (equal shares, round-robin
    over the classes), sorted."""
    return sorted(pick_anchors(None if labels is None else np.asarray(labels), min(n, n_total), seed, n_total))


def nearest(points, query, k):
    """Indices of the k rows of `points` (N, Z) nearest `query` (Z,) in Euclidean distance,
    nearest first, ties by row: the reference the element's nearest-example panel is tested
    against (with `points` the map's float16 coordinates read as float32)."""
    d2 = ((np.asarray(points, np.float64) - np.asarray(query, np.float64)) ** 2).sum(1)
    return np.argsort(d2, kind="stable")[:k]


def mahalanobis2(coords, std):
    """d² = Σ (coords_i / std_i)²: squared Mahalanobis distance under the codes' Gaussian (PCA
    coordinates are uncorrelated, with per-component std `std`)."""
    return ((np.asarray(coords, np.float64) / np.asarray(std, np.float64)) ** 2).sum(-1)


def typicality_quantiles(coords, std, q=101):
    """d² of the training codes at probabilities 0, 1/(q-1), ..., 1."""
    return np.quantile(mahalanobis2(coords, std), np.linspace(0, 1, q))


def percentile(d2, quantiles):
    """Share (0-100) of training codes closer to the centre than d², interpolated in the quantiles
    of `typicality_quantiles`: what the out-of-distribution meter shows."""
    quantiles = np.asarray(quantiles, np.float64)
    return float(np.interp(d2, quantiles, np.linspace(0, 100, len(quantiles))))
