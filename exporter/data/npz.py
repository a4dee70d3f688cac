"""User-supplied images as one `.npz` file, read strictly.

This is the door for arbitrary data, so every assumption the rest of the pipeline makes
(shape, range, label type) is checked here and reported with the file's name, instead of
surfacing as a NaN loss or an out-of-range embedding index much later.
"""
import zipfile
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import ImageData

KEYS = ("x", "y", "label_names", "x_test", "y_test")


def _read(path):
    """Known keys (eagerly: npz members load lazily, so errors would escape the try) + all names.

    The magic is checked first because np.load treats an unknown file as a pickle and would
    report "contains pickled data" for, say, a PNG.
    """
    if not path.is_file():
        raise DataError(path, "file not found")
    try:
        with open(path, "rb") as f:
            magic = f.read(6)
        if magic == b"\x93NUMPY":
            raise DataError(path, "not a readable npz (it holds a single .npy array)")
        if not magic.startswith(b"PK"):
            raise DataError(path, "not a readable npz (not a zip archive)")
        with np.load(path, allow_pickle=False) as npz:
            return {k: npz[k] for k in KEYS if k in npz.files}, list(npz.files)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError, zlib.error) as e:
        raise DataError(path, f"not a readable npz ({e})") from None


def _images(path, key, x):
    if x.dtype != np.uint8 and x.dtype.kind != "f":
        raise DataError(path, f"'{key}' has dtype {x.dtype}; need uint8 (0..255) or float in [0, 1]")
    if x.ndim == 4 and x.shape[3] == 1:
        x = x[..., 0]
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[3] == 3)):
        raise DataError(path, f"'{key}' must be (N, H, W) grey or (N, H, W, 3) RGB, got shape {x.shape}")
    if x.size == 0:
        raise DataError(path, f"'{key}' is empty (shape {x.shape})")
    if x.dtype == np.uint8:
        out = x.astype(np.float32)
        out /= 255.0
        return out
    if not np.isfinite(x).all():
        raise DataError(path, f"'{key}' contains NaN or inf")
    lo, hi = float(x.min()), float(x.max())
    if lo < 0.0 or hi > 1.0:
        raise DataError(path, f"'{key}' float values must be in [0, 1], found [{lo:g}, {hi:g}]")
    return x.astype(np.float32)


def _labels(path, key, y, n_images):
    if y.dtype.kind not in "iu":
        raise DataError(path, f"'{key}' must hold integer labels, got dtype {y.dtype}")
    if y.ndim != 1:
        raise DataError(path, f"'{key}' must be 1-D (N,), got shape {y.shape}")
    if len(y) != n_images:
        raise DataError(path, f"'{key}' has {len(y)} labels but there are {n_images} images")
    if len(y) and y.min() < 0:
        raise DataError(path, f"'{key}' has negative labels (min {y.min()})")
    return y.astype(np.int64)


def _label_names(path, arrays, labels):
    """Explicit names must cover every label; otherwise number them, or none without labels."""
    if not labels:
        return [] if "label_names" not in arrays else _names(path, arrays["label_names"])
    max_label = int(max(y.max() for y in labels))
    if "label_names" not in arrays:
        return [str(i) for i in range(max_label + 1)]
    names = _names(path, arrays["label_names"])
    if max_label >= len(names):
        raise DataError(path, f"label {max_label} found but 'label_names' has only {len(names)} entries")
    return names


def _names(path, arr):
    if arr.ndim != 1 or arr.dtype.kind not in "US":
        raise DataError(path, f"'label_names' must be a 1-D array of strings, got {arr.dtype} {arr.shape}")
    return [s.decode() if isinstance(s, bytes) else str(s) for s in arr.tolist()]


def _split(path, x, y, seed, test_fraction):
    """Same seed, same split: runs stay comparable without the user shipping a test set."""
    n = len(x)
    if n < 2:
        raise DataError(path, f"has {n} image(s) and no 'x_test'; need at least 2 to split")
    n_test = min(max(1, int(n * test_fraction)), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    test, train = order[:n_test], order[n_test:]
    return x[train], None if y is None else y[train], x[test], None if y is None else y[test]


def load_npz(path, name=None, seed=0, test_fraction=0.1) -> ImageData:
    """An `.npz` with `x` (and optionally `y`, `label_names`, `x_test`, `y_test`) as `ImageData`."""
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    path = Path(path)
    arrays, found = _read(path)
    if "x" not in arrays:
        raise DataError(path, f"missing 'x' (found keys: {', '.join(sorted(found)) or 'none'})")
    x = _images(path, "x", arrays["x"])
    y = _labels(path, "y", arrays["y"], len(x)) if "y" in arrays else None

    if "x_test" in arrays:
        x_test = _images(path, "x_test", arrays["x_test"])
        if x_test.shape[1:] != x.shape[1:]:
            raise DataError(path, f"'x_test' image size {x_test.shape[1:]} differs from 'x' {x.shape[1:]}")
        if ("y" in arrays) != ("y_test" in arrays):
            raise DataError(path, "has 'x_test' and only one of 'y' / 'y_test'; give both or neither")
        y_test = _labels(path, "y_test", arrays["y_test"], len(x_test)) if y is not None else None
        x_train, y_train = x, y
    elif "y_test" in arrays:
        raise DataError(path, "has 'y_test' but no 'x_test'")
    else:
        x_train, y_train, x_test, y_test = _split(path, x, y, seed, test_fraction)

    labels = [a for a in (y_train, y_test) if a is not None]
    label_names = _label_names(path, arrays, labels)
    return ImageData(name or path.stem, x_train, y_train, x_test, y_test, label_names)
