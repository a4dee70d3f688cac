"""Attributes computed from pixels, the same way on real images and on decodes.

Ink is every pixel whose luminance exceeds INK (grey images: the value; colour images:
0.299 R + 0.587 G + 0.114 B), on the dark ground all our training images share. Each attribute
is one number per image, in pixels or intensity; an image without ink gets 0 for every one.
"""
import numpy as np

from ..errors import ArgumentError

INK = 0.2  # a pixel is ink above this luminance
ATTRIBUTES = {
    "brightness": "mean luminance of the ink",
    "height": "vertical extent of the ink's bounding box, pixels",
    "width": "horizontal extent of the ink's bounding box, pixels",
    "area": "ink pixels",
    "x": "column of the ink's luminance-weighted centre, pixels",
    "y": "row of the ink's luminance-weighted centre, pixels",
}


def luminance(images):
    """(N, H, W) grey or (N, H, W, 3) RGB in [0, 1] -> (N, H, W)."""
    images = np.asarray(images, dtype=np.float32)
    if images.ndim == 4 and images.shape[-1] == 3:
        return images @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    if images.ndim != 3:
        raise ArgumentError(f"images must be (N, H, W) or (N, H, W, 3), got shape {images.shape}")
    return images


def _extent(mask):
    """(N, L) any-ink per row (or column) -> (N,) last - first + 1, 0 where there is none."""
    n = mask.shape[1]
    first, last = np.argmax(mask, 1), n - 1 - np.argmax(mask[:, ::-1], 1)
    return np.where(mask.any(1), last - first + 1, 0).astype(np.float64)


def measure(images, names=tuple(ATTRIBUTES)):
    """{name: (N,) float64} for the built-in attributes `names` of `images`."""
    unknown = [n for n in names if n not in ATTRIBUTES]
    if unknown:
        raise ArgumentError(f"unknown attribute {unknown[0]!r} (built in: {', '.join(ATTRIBUTES)})")
    lum = luminance(images).astype(np.float64)                 # (N, H, W)
    ink = lum > INK
    weight = np.where(ink, lum, 0.0)
    total = weight.sum((1, 2))
    safe = np.maximum(total, 1e-12)
    rows, cols = np.arange(lum.shape[1]), np.arange(lum.shape[2])
    every = {
        "brightness": lambda: total / np.maximum(ink.sum((1, 2)), 1),
        "height": lambda: _extent(ink.any(2)),
        "width": lambda: _extent(ink.any(1)),
        "area": lambda: ink.sum((1, 2)).astype(np.float64),
        "x": lambda: np.where(total > 0, (weight.sum(1) @ cols) / safe, 0.0),
        "y": lambda: np.where(total > 0, (weight.sum(2) @ rows) / safe, 0.0),
    }
    return {n: every[n]() for n in names}
