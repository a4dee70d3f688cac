"""What image and text exports share: PCA on latent codes, its inverse as a graph module, the
coordinates validation runs on, the real examples shown as anchors, and the PCA part of the
manifest (the sliders)."""
import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from .errors import ArgumentError


class PCAInverse(nn.Module):
    """coords (B, k) -> z (B, Z), inside the exported graph so the browser feeds slider values."""

    def __init__(self, components, mean):
        super().__init__()
        self.register_buffer("components", torch.as_tensor(components, dtype=torch.float32))  # (k, Z)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))              # (Z,)

    def forward(self, coords):                       # (B, k)
        return coords @ self.components + self.mean  # (B, Z)


def fit_pca(latents, k):
    if not 1 <= k <= latents.shape[1]:
        raise ArgumentError(f"--components {k}: must be between 1 and the latent size {latents.shape[1]}")
    return PCA(n_components=k, svd_solver="full").fit(latents.astype(np.float64))


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
    rest = n - len(rows)
    rows += list(rng.standard_normal((rest, k)) * rng.uniform(0.5, 3.0, (rest, 1)))
    return (np.array(rows[:n]) * np.asarray(std)).astype(np.float32)


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


def pca_manifest(pca, latent_size, range_sigma=3.0):
    """The manifest's latent, pca and axes entries: one slider per component, ±range_sigma·σ."""
    std = np.sqrt(pca.explained_variance_).tolist()
    return {
        "latent": {"size": int(latent_size), "k": len(std)},
        "pca": {"std": std, "explained_variance_ratio": pca.explained_variance_ratio_.tolist()},
        "axes": [{"name": f"PC{i + 1}", "index": i, "min": -range_sigma * s, "max": range_sigma * s}
                 for i, s in enumerate(std)],
        "slider_range_sigma": range_sigma,
    }
