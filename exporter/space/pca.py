"""The coordinate system every point lives in: PCA with all Z components of the latent codes.

With all components the PCA is a rotation about the mean, exactly invertible, so a point in
PCA coordinates *is* a latent point: nothing is thrown away. Sliders show the leading
components; the rest of the point is kept as it is. Both directions of the map sit inside the
exported graphs (`PCAInverse` before a decoder, `PCAForward` after an encoder), so the browser
only ever handles coordinates.
"""
import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from ..errors import ArgumentError

MIN_SLIDER_VARIANCE = 0.005  # a component explaining under 0.5% of the variance is not offered as a slider


class PCAInverse(nn.Module):
    """coords (B, Z) -> z (B, Z): z = coords @ components + mean."""

    def __init__(self, components, mean):
        super().__init__()
        self.register_buffer("components", torch.as_tensor(components, dtype=torch.float32))  # (Z, Z)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))              # (Z,)

    def forward(self, coords):                       # (B, Z)
        return coords @ self.components + self.mean  # (B, Z)


class PCAForward(nn.Module):
    """z (B, Z) -> coords (B, Z): coords = (z - mean) @ components.T, the inverse of PCAInverse."""

    def __init__(self, components, mean):
        super().__init__()
        self.register_buffer("components_t", torch.as_tensor(np.asarray(components).T, dtype=torch.float32))
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))

    def forward(self, z):                            # (B, Z)
        return (z - self.mean) @ self.components_t   # (B, Z)


def fit_pca(latents):
    """PCA with all Z components of latents (N, Z); needs N > Z distinct-enough rows."""
    latents = np.asarray(latents, dtype=np.float64)
    n, z = latents.shape
    if n <= z:
        raise ArgumentError(f"latents: need more rows than latent dimensions to fit PCA, got {n} rows of {z}")
    return PCA(n_components=z, svd_solver="full").fit(latents)


def pick_sliders(pca, n):
    """Indices of the leading components offered as sliders: at most n, each explaining at
    least MIN_SLIDER_VARIANCE of the variance (always at least the first)."""
    if n < 1:
        raise ArgumentError(f"--sliders {n}: must be at least 1")
    ratio = pca.explained_variance_ratio_
    return [i for i in range(min(n, len(ratio))) if i == 0 or ratio[i] >= MIN_SLIDER_VARIANCE]


def std(pca):
    """Per-component standard deviation of the codes; a dead direction gets a tiny positive value
    so sampling and slider ranges stay well defined."""
    return np.maximum(np.sqrt(pca.explained_variance_), 1e-6)
