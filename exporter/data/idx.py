"""IDX files (the MNIST / FashionMNIST format), read strictly.

A short download or a mislabelled file must fail here with the file's name, not later as a
reshape error or a silently wrong dataset. We only support unsigned-byte IDX, which is all the
MNIST family uses.
"""
import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from ..errors import DataError
from . import ImageData

FASHION_MNIST_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_LABELS = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                        "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"]

GZIP_MAGIC = b"\x1f\x8b"
UBYTE = 0x08

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"


def _read_bytes(path):
    """Whole file, gunzipped if it starts with the gzip magic (suffixes lie after renames)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataError(path, "file not found") from None
    except OSError as e:
        raise DataError(path, f"cannot read file ({e.strerror or e})") from None
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, gzip.BadGzipFile, zlib.error, OSError) as e:
        raise DataError(path, f"corrupt or truncated gzip ({e})") from None


def read_idx(path) -> np.ndarray:
    """One IDX file as a uint8 array shaped by its header.

    The array is a read-only view on the file's bytes: callers convert anyway, so copying
    the 47 MB FashionMNIST training images here would be wasted work.
    """
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4:
        raise DataError(path, f"has {len(raw)} bytes, too short for an IDX header")
    zero0, zero1, dtype_code, ndim = raw[:4]
    if zero0 != 0 or zero1 != 0:
        raise DataError(path, f"bad magic number 0x{raw[:4].hex()} (not an IDX file)")
    if dtype_code != UBYTE:
        raise DataError(path, f"IDX dtype code 0x{dtype_code:02x} is not supported "
                              f"(only 0x08 = unsigned byte)")
    if ndim == 0:
        raise DataError(path, "IDX header declares 0 dimensions")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise DataError(path, f"has {len(raw)} bytes, too short for a {ndim}-dimension IDX header")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    promised = math.prod(dims)
    have = len(raw) - header_len
    if have != promised:
        raise DataError(path, f"has {have} bytes of data, header promises {promised} "
                              f"(dims {'x'.join(map(str, dims))})")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(dims)


def _find(folder, stem):
    """Plain or gzipped, whichever is there; the error names the plain name we expected."""
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(folder / stem, "file not found (also looked for .gz)")


def _images(path):
    x = read_idx(path)
    if not (x.ndim == 3 or (x.ndim == 4 and x.shape[3] == 3)):
        raise DataError(path, f"images must be (N, H, W) grey or (N, H, W, 3) RGB, got shape {x.shape}")
    if x.size == 0:
        raise DataError(path, f"contains no images (shape {x.shape})")
    out = x.astype(np.float32)
    out /= 255.0
    return out


def _labels(path, n_images):
    y = read_idx(path)
    if y.ndim != 1:
        raise DataError(path, f"labels must be 1-D (N,), got {y.ndim}-D shape {y.shape}")
    if len(y) != n_images:
        raise DataError(path, f"has {len(y)} labels but the images file has {n_images} images")
    return y.astype(np.int64)


def load_idx_folder(folder, name, label_names=None) -> ImageData:
    """The four MNIST-layout files in `folder` as an `ImageData`, checked for consistency."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(folder, "folder not found")
    train_images, test_images = _find(folder, TRAIN_IMAGES), _find(folder, TEST_IMAGES)
    train_labels, test_labels = _find(folder, TRAIN_LABELS), _find(folder, TEST_LABELS)

    x_train = _images(train_images)
    y_train = _labels(train_labels, len(x_train))
    x_test = _images(test_images)
    y_test = _labels(test_labels, len(x_test))
    if x_test.shape[1:] != x_train.shape[1:]:
        raise DataError(test_images, f"image size {x_test.shape[1:]} differs from "
                                     f"training images {x_train.shape[1:]}")

    max_label = int(max(y_train.max(), y_test.max()))
    if label_names is None:
        label_names = [str(i) for i in range(max_label + 1)]
    elif max_label >= len(label_names):
        raise DataError(folder, f"label {max_label} found but only {len(label_names)} "
                                f"label names given")
    return ImageData(name, x_train, y_train, x_test, y_test, list(label_names))
