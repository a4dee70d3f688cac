"""`--dataset shapes`: coloured shapes on a dark ground, generated from a seed (no download).

Each image is one shape (circle, square or triangle) of one of six colours, at a random position
and size, anti-aliased by 3x3 supersampling. The generating factors are kept (`ImageData.factors`):
known ground truth for concept directions ("does this direction change size and nothing else?").
"""
import numpy as np

from . import ImageData

SHAPES = ["circle", "square", "triangle"]
COLOURS = {"red": (1.0, 0.2, 0.2), "green": (0.2, 0.9, 0.3), "blue": (0.25, 0.4, 1.0),
           "yellow": (1.0, 0.9, 0.2), "magenta": (0.95, 0.3, 0.9), "cyan": (0.2, 0.9, 0.95)}
SUPERSAMPLE = 3


def _masks(kind, cx, cy, r, size):
    """Coverage (N, size, size) in [0, 1] of each shape, by supersampling."""
    s = SUPERSAMPLE
    grid = (np.arange(size * s) + 0.5) / s                       # sample centres in pixel units
    x, y = grid[None, None, :], grid[None, :, None]
    cx, cy, r = cx[:, None, None], cy[:, None, None], r[:, None, None]
    dx, dy = x - cx, y - cy
    circle = dx ** 2 + dy ** 2 <= r ** 2
    square = (np.abs(dx) <= r * 0.85) & (np.abs(dy) <= r * 0.85)
    # an upward triangle inscribed in the circle: below the two slanted edges, above the base
    triangle = (dy <= r * 0.5) & (dy >= -r + 1.732 * np.abs(dx))
    inside = np.where(kind[:, None, None] == 0, circle, np.where(kind[:, None, None] == 1, square, triangle))
    n = len(kind)
    return inside.reshape(n, size, s, size, s).mean(axis=(2, 4))


def generate(n, size=32, seed=0, chunk=2000):
    """(x (n, size, size, 3) float32 in [0, 1], shape labels (n,), factors {name: (n,)})."""
    rng = np.random.default_rng(seed)
    kind = rng.integers(0, len(SHAPES), n)
    colour = rng.integers(0, len(COLOURS), n)
    r = rng.uniform(0.12, 0.3, n) * size                        # radius, pixels
    cx = rng.uniform(r + 1, size - r - 1)
    cy = rng.uniform(r + 1, size - r - 1)
    rgb = np.array(list(COLOURS.values()), dtype=np.float32)[colour]   # (n, 3)
    x = np.empty((n, size, size, 3), dtype=np.float32)
    for i in range(0, n, chunk):
        cover = _masks(kind[i:i + chunk], cx[i:i + chunk], cy[i:i + chunk], r[i:i + chunk], size)
        x[i:i + chunk] = cover[..., None].astype(np.float32) * rgb[i:i + chunk, None, None, :]
    factors = {"shape": kind, "colour": colour, "x": cx / size, "y": cy / size, "size": r / size}
    return x, kind.astype(np.int64), factors


def load_shapes(seed=0, n_train=20000, n_test=2000, size=32):
    x, y, factors = generate(n_train + n_test, size, seed)
    return ImageData("shapes", x[:n_train], y[:n_train], x[n_train:], y[n_train:], list(SHAPES),
                     factors={k: v[:n_train] for k, v in factors.items()})
