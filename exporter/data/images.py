"""Pick a loader by dataset name or by what `--data` points at.

`digits` is scikit-learn's bundled 8x8 set: no download, so it is the default everywhere.
"""
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import ImageData

DIGIT_LABELS = [str(i) for i in range(10)]


def load_digits(seed=0, test_fraction=0.2):
    """sklearn's 1,797 8x8 digits (pixel values 0..16), split deterministically."""
    from sklearn.datasets import load_digits as sk_digits
    d = sk_digits()
    x = (d.images / 16.0).astype(np.float32)  # (N, 8, 8) in [0, 1]
    y = d.target.astype(np.int64)
    order = np.random.default_rng(seed).permutation(len(x))
    n_test = int(round(len(x) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return ImageData("digits", x[train], y[train], x[test], y[test], list(DIGIT_LABELS))


def load(dataset=None, data_dir=None, seed=0):
    """`dataset` names the data (default digits); with `data_dir` it only names it (default: the file's stem)."""
    if data_dir is not None:
        path = Path(data_dir)
        if not path.exists():
            raise DataError(path, "no such file or folder")
        if path.is_file():
            from .npz import load_npz
            return load_npz(path, name=dataset or path.stem, seed=seed)
        from .idx import FASHION_MNIST_LABELS, load_idx_folder
        labels = FASHION_MNIST_LABELS if dataset == "fashion-mnist" else None
        return load_idx_folder(path, name=dataset or path.name, label_names=labels)
    if dataset in (None, "digits"):
        return load_digits(seed)
    if dataset == "shapes":
        from .shapes import load_shapes
        return load_shapes(seed)
    if dataset == "fashion-mnist":
        from .idx import FASHION_MNIST_DIR, FASHION_MNIST_LABELS, load_idx_folder
        return load_idx_folder(FASHION_MNIST_DIR, name="fashion-mnist", label_names=FASHION_MNIST_LABELS)
    raise DataError(dataset, "unknown dataset (choose digits, fashion-mnist or shapes, or pass --data DIR|FILE.npz)")
