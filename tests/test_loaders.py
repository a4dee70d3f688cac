"""Strict loaders: every corruption fails with a DataError naming the file, and writes nothing."""
import gzip
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from exporter.data.idx import FASHION_MNIST_DIR, FASHION_MNIST_LABELS, load_idx_folder, read_idx
from exporter.data.npz import load_npz
from exporter.errors import DataError

RNG = np.random.default_rng(0)
IMG, LBL = "train-images-idx3-ubyte", "train-labels-idx1-ubyte"
TIMG, TLBL = "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"
TRAIN_X = RNG.integers(0, 256, (5, 4, 3), dtype=np.uint8)
TRAIN_Y = np.array([0, 1, 2, 1, 0], dtype=np.uint8)
TEST_X = RNG.integers(0, 256, (3, 4, 3), dtype=np.uint8)
TEST_Y = np.array([2, 2, 1], dtype=np.uint8)
FILES = {IMG: TRAIN_X, LBL: TRAIN_Y, TIMG: TEST_X, TLBL: TEST_Y}


def idx_bytes(arr, head=None):
    """IDX encoding of a uint8 array; `head` overrides the 4 magic bytes."""
    head = head if head is not None else bytes([0, 0, 0x08, arr.ndim])
    return head + struct.pack(f">{arr.ndim}I", *arr.shape) + arr.tobytes()


def write_idx_folder(folder, gz):
    """gz: True, False, or "mixed" (only the image files gzipped) -- all must load."""
    for stem, arr in FILES.items():
        zipped = gz is True or (gz == "mixed" and "images" in stem)
        path = folder / (f"{stem}.gz" if zipped else stem)
        path.write_bytes(gzip.compress(idx_bytes(arr)) if zipped else idx_bytes(arr))


def corrupt_idx(folder, stem, content):
    """Put `content` in place of `stem` and return the path the error should name.

    bytes: new IDX payload, gzipped if the file was. None: delete the file.
    ("raw-gz", bytes): written verbatim as `stem.gz`, to break the gzip layer itself.
    """
    plain, zipped = folder / stem, folder / f"{stem}.gz"
    if content is None or isinstance(content, tuple):
        plain.unlink(missing_ok=True)
        zipped.unlink(missing_ok=True)
        if content is None:
            return plain
        zipped.write_bytes(content[1])
        return zipped
    path = plain if plain.exists() else zipped
    path.write_bytes(gzip.compress(content) if path.suffix == ".gz" else content)
    return path


def listing(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*"))


GOOD_GZ = gzip.compress(idx_bytes(TRAIN_X))
IDX_CORRUPTIONS = [
    ("magic-not-idx", IMG, idx_bytes(TRAIN_X, head=b"\x12\x34\x08\x03"), "bad magic number"),
    ("magic-signed-byte", IMG, idx_bytes(TRAIN_X, head=b"\x00\x00\x09\x03"), "only 0x08"),
    ("images-2d", IMG, idx_bytes(TRAIN_X.reshape(5, 12)), "must be (N, H, W) grey or (N, H, W, 3) RGB"),
    ("labels-2d", LBL, idx_bytes(TRAIN_Y.reshape(5, 1)), "must be 1-D"),
    ("fewer-bytes", IMG, idx_bytes(TRAIN_X)[:-2], "has 58 bytes of data, header promises 60"),
    ("more-bytes", IMG, idx_bytes(TRAIN_X) + b"\0", "has 61 bytes of data, header promises 60"),
    ("header-cut", IMG, idx_bytes(TRAIN_X)[:9], "too short for a 3-dimension IDX header"),
    ("label-count", LBL, idx_bytes(TRAIN_Y[:4]), "has 4 labels but the images file has 5"),
    ("test-size", TIMG, idx_bytes(TEST_X.reshape(3, 3, 4)), "differs from training images"),
    ("empty-images", IMG, idx_bytes(TRAIN_X[:0]), "contains no images"),
    ("truncated-gzip", IMG, ("raw-gz", GOOD_GZ[:-12]), "corrupt or truncated gzip"),
    ("garbled-gzip", IMG, ("raw-gz", GOOD_GZ[:12] + bytes(20) + GOOD_GZ[32:]), "corrupt or truncated gzip"),
    ("missing-file", TLBL, None, "file not found"),
]


@pytest.mark.parametrize("gz", [False, True, "mixed"], ids=["plain", "gz", "mixed"])
def test_idx_folder_loads(tmp_path, gz):
    write_idx_folder(tmp_path, gz)
    data = load_idx_folder(tmp_path, "tiny")
    assert data.name == "tiny" and data.shape == (4, 3)
    assert data.x_train.shape == (5, 4, 3) and data.x_test.shape == (3, 4, 3)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int64
    np.testing.assert_allclose(data.x_train, TRAIN_X / 255.0, rtol=1e-6)
    np.testing.assert_array_equal(data.y_test, TEST_Y)
    assert data.label_names == ["0", "1", "2"]


def test_idx_folder_keeps_given_label_names(tmp_path):
    write_idx_folder(tmp_path, gz=False)
    assert load_idx_folder(tmp_path, "tiny", ["a", "b", "c"]).label_names == ["a", "b", "c"]
    with pytest.raises(DataError, match="only 2 label names"):
        load_idx_folder(tmp_path, "tiny", ["a", "b"])


def test_read_idx_detects_gzip_by_magic_not_suffix(tmp_path):
    path = tmp_path / "labels.idx"  # gzipped, but no .gz suffix
    path.write_bytes(gzip.compress(idx_bytes(TRAIN_Y)))
    np.testing.assert_array_equal(read_idx(path), TRAIN_Y)


@pytest.mark.parametrize("gz", [False, True], ids=["plain", "gz"])
@pytest.mark.parametrize("stem, content, expected", [c[1:] for c in IDX_CORRUPTIONS],
                         ids=[c[0] for c in IDX_CORRUPTIONS])
def test_idx_corruption(tmp_path, gz, stem, content, expected):
    write_idx_folder(tmp_path, gz)
    bad = corrupt_idx(tmp_path, stem, content)
    before = listing(tmp_path)
    with pytest.raises(DataError) as err:
        load_idx_folder(tmp_path, "tiny")
    assert expected in str(err.value)
    assert bad.name in str(err.value) and err.value.path == str(bad)
    assert listing(tmp_path) == before, "a failing load must not write anything"


@pytest.mark.parametrize("load, missing, expected", [
    (lambda p: load_idx_folder(p, "tiny"), "nope", "folder not found"),
    (read_idx, "absent-idx1-ubyte", "file not found"),
    (load_npz, "absent.npz", "file not found"),
], ids=["idx-folder", "idx-file", "npz-file"])
def test_missing_input(tmp_path, load, missing, expected):
    with pytest.raises(DataError, match=expected) as err:
        load(tmp_path / missing)
    assert missing in str(err.value)
    assert listing(tmp_path) == [], "a failing load must not write anything"


# --- npz -------------------------------------------------------------------------------

X_U8 = RNG.integers(0, 256, (20, 4, 3), dtype=np.uint8)
Y = np.arange(20) % 3


@pytest.mark.parametrize("x", [X_U8, X_U8 / 255.0, (X_U8 / 255.0).astype(np.float32)],
                         ids=["uint8", "float64", "float32"])
@pytest.mark.parametrize("extra, names", [
    ({}, []),
    ({"y": Y}, ["0", "1", "2"]),
    ({"y": Y, "label_names": np.array(["cat", "dog", "eel"])}, ["cat", "dog", "eel"]),
], ids=["x-only", "with-y", "with-label-names"])
def test_npz_loads_and_splits(tmp_path, x, extra, names):
    path = tmp_path / "mine.npz"
    np.savez(path, x=x, **extra)
    data = load_npz(path)
    assert data.name == "mine" and data.label_names == names
    assert data.x_train.shape == (18, 4, 3) and data.x_test.shape == (2, 4, 3)
    assert data.x_train.dtype == np.float32 and 0.0 <= data.x_train.min() <= data.x_train.max() <= 1.0
    back = np.rint(np.concatenate([data.x_train, data.x_test]) * 255).astype(np.uint8)
    origin = (back.reshape(20, 1, -1) == X_U8.reshape(1, 20, -1)).all(-1).argmax(1)
    assert sorted(origin) == list(range(20)), "split must be a permutation of the input"
    assert (data.y_train is None) == ("y" not in extra)
    if "y" in extra:  # labels must travel with their images through the shuffle
        assert data.y_train.dtype == np.int64
        np.testing.assert_array_equal(np.concatenate([data.y_train, data.y_test]), Y[origin])
    np.testing.assert_array_equal(load_npz(path).x_test, data.x_test)  # same seed, same split
    assert not np.array_equal(load_npz(path, seed=1).x_test, data.x_test)


def test_npz_explicit_test_set_and_name(tmp_path):
    path = tmp_path / "mine.npz"
    np.savez(path, x=X_U8, y=Y, x_test=X_U8[:4], y_test=Y[:4])
    data = load_npz(path, name="custom")
    assert data.name == "custom" and len(data.x_train) == 20 and len(data.x_test) == 4
    np.testing.assert_array_equal(data.y_test, Y[:4])


def write_npz_case(path, spec):
    """spec: dict -> np.savez of those arrays; bytes -> the file verbatim; callable -> spec(path)."""
    if isinstance(spec, dict):
        np.savez(path, **spec)
    elif isinstance(spec, bytes):
        path.write_bytes(spec)
    else:
        spec(path)


def npy_not_npz(path):
    with open(path, "wb") as f:  # a file handle, so np.save keeps the .npz name
        np.save(f, X_U8)


def truncated_npz(path):
    np.savez_compressed(path, x=X_U8)
    path.write_bytes(path.read_bytes()[:-40])


NPZ_CORRUPTIONS = [
    ("not-a-zip", b"hello, not a zip", "not a zip archive"),
    ("npy-not-npz", npy_not_npz, "single .npy array"),
    ("truncated", truncated_npz, "not a readable npz"),
    ("zip-garbage", b"PK\x03\x04" + bytes(40), "not a readable npz"),
    ("pickled-object", dict(x=np.array([{"a": 1}], dtype=object)), "not a readable npz"),
    ("missing-x", dict(images=X_U8), "missing 'x' (found keys: images)"),
    ("x-2d", dict(x=X_U8.reshape(20, 12)), "must be (N, H, W) grey or (N, H, W, 3) RGB"),
    ("x-empty", dict(x=X_U8[:0]), "is empty"),
    ("x-int64", dict(x=X_U8.astype(np.int64)), "has dtype int64"),
    ("float-above-1", dict(x=X_U8 / 100.0), "must be in [0, 1]"),
    ("float-negative", dict(x=X_U8 / 255.0 - 0.5), "must be in [0, 1]"),
    ("float-nan", dict(x=np.full((2, 4, 3), np.nan)), "NaN"),
    ("y-float", dict(x=X_U8, y=Y.astype(float)), "integer labels"),
    ("y-negative", dict(x=X_U8, y=Y - 1), "negative labels"),
    ("y-count", dict(x=X_U8, y=Y[:19]), "has 19 labels but there are 20 images"),
    ("y-2d", dict(x=X_U8, y=Y.reshape(20, 1)), "must be 1-D"),
    ("names-too-few", dict(x=X_U8, y=Y, label_names=np.array(["a", "b"])), "only 2 entries"),
    ("x-test-size", dict(x=X_U8, x_test=X_U8.reshape(20, 3, 4)), "differs from 'x'"),
    ("y-test-missing", dict(x=X_U8, y=Y, x_test=X_U8), "only one of 'y' / 'y_test'"),
    ("x-test-empty", dict(x=X_U8, x_test=X_U8[:0]), "'x_test' is empty"),
    ("one-image", dict(x=X_U8[:1]), "need at least 2 to split"),
]


@pytest.mark.parametrize("spec, expected", [c[1:] for c in NPZ_CORRUPTIONS],
                         ids=[c[0] for c in NPZ_CORRUPTIONS])
def test_npz_corruption(tmp_path, spec, expected):
    path = tmp_path / "bad.npz"
    write_npz_case(path, spec)
    before = listing(tmp_path)
    with pytest.raises(DataError) as err:
        load_npz(path)
    assert expected in str(err.value)
    assert "bad.npz" in str(err.value) and err.value.path == str(path)
    assert listing(tmp_path) == before, "a failing load must not write anything"


@pytest.mark.skipif(not Path(FASHION_MNIST_DIR).is_dir(),
                    reason=f"FashionMNIST not installed at {FASHION_MNIST_DIR}")
def test_real_fashion_mnist():
    start = time.perf_counter()
    data = load_idx_folder(FASHION_MNIST_DIR, "fashion-mnist", FASHION_MNIST_LABELS)
    elapsed = time.perf_counter() - start
    assert data.x_train.shape == (60000, 28, 28) and data.x_test.shape == (10000, 28, 28)
    assert data.y_train.shape == (60000,) and data.y_test.shape == (10000,)
    assert data.x_train.dtype == np.float32
    assert data.x_train.min() == 0.0 and data.x_train.max() == 1.0
    assert set(np.unique(data.y_train)) == set(range(10)) == set(np.unique(data.y_test))
    assert len(data.label_names) == 10
    print(f"FashionMNIST loaded in {elapsed:.2f}s")


def test_rgb_npz_and_channel_checks(tmp_path):
    """Colour images come as (N, H, W, 3); (N, H, W, 1) is grey; other channel counts are refused."""
    rgb = (np.random.default_rng(0).random((10, 6, 6, 3)) * 255).astype(np.uint8)
    np.savez(tmp_path / "rgb.npz", x=rgb)
    data = load_npz(tmp_path / "rgb.npz")
    assert data.shape == (6, 6, 3) and data.x_train.dtype == np.float32 and data.x_train.max() <= 1
    np.savez(tmp_path / "one.npz", x=rgb[..., :1])
    assert load_npz(tmp_path / "one.npz").shape == (6, 6)
    np.savez(tmp_path / "five.npz", x=np.zeros((10, 6, 6, 5), np.uint8))
    with pytest.raises(DataError, match=r"five.npz: 'x' must be \(N, H, W\) grey or \(N, H, W, 3\) RGB"):
        load_npz(tmp_path / "five.npz")


def test_shapes_are_generated_from_a_seed():
    from exporter.data.shapes import SHAPES, generate
    x, y, factors = generate(50, size=16, seed=3)
    again, _, _ = generate(50, size=16, seed=3)
    assert x.shape == (50, 16, 16, 3) and np.array_equal(x, again) and not np.array_equal(x, generate(50, 16, 4)[0])
    assert 0 <= x.min() and x.max() <= 1 and set(y) <= set(range(len(SHAPES)))
    assert set(factors) == {"shape", "colour", "x", "y", "size"} and all(len(v) == 50 for v in factors.values())
    ink = x.max(-1).sum((1, 2))                       # bigger circles cover more pixels
    circles = y == 0
    assert np.corrcoef(ink[circles], factors["size"][circles] ** 2)[0, 1] > 0.95
