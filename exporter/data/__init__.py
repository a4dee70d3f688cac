"""Datasets. Every loader returns an `ImageData`: float32 images in [0, 1], shape (N, H, W) for
grey or (N, H, W, 3) for colour."""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class ImageData:
    name: str                      # dataset name recorded in the manifest
    x_train: np.ndarray            # (N, H, W) or (N, H, W, 3) float32 in [0, 1]
    y_train: np.ndarray | None     # (N,) int64 labels, or None
    x_test: np.ndarray             # (M, H, W) or (M, H, W, 3) float32 in [0, 1]
    y_test: np.ndarray | None      # (M,) int64 labels, or None
    label_names: list[str] = field(default_factory=list)  # index -> name; empty if unknown
    factors: dict = field(default_factory=dict)  # generated data: factor name -> (N,) training values

    @property
    def shape(self):
        """(H, W) or (H, W, 3)."""
        return tuple(self.x_train.shape[1:])


def load_images(dataset, data_dir=None, seed=0):
    """Load a dataset by name ('digits', ...) or from a folder/file given by data_dir."""
    from . import images
    return images.load(dataset, data_dir=data_dir, seed=seed)
