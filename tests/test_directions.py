"""Concept directions: planted directions are found, orthogonalization is exact, effects have the
expected sign on a real run, edits and transfers do what they say, the map and typicality data
match numpy and scikit-learn, and every bad input is one line that leaves the bundle as it was."""
import hashlib
import json
import shutil
import struct
import zlib

import numpy as np
import pytest

from exporter import bundle
from exporter.bundle.png import encode_png
from exporter.bundle.runtime import Runtime
from exporter.data import load_images
from exporter.errors import ArgumentError
from exporter.export.concepts import add_directions
from exporter.space import directions as dirs
from exporter.space import points
from exporter.space.attributes import measure


def snapshot(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def small_digits(tmp_path_factory, name, seed, latent_size):
    """A small digits run, long enough that the decoder uses a few components (the session's
    3-epoch runs have collapsed posteriors: no direction changes anything there)."""
    from exporter.configs import VAEConfig
    from exporter.export.image import export_run
    from exporter.train.image import TrainConfig, train
    run = tmp_path_factory.mktemp("runs") / name
    train(TrainConfig(epochs=20, seed=seed), VAEConfig(latent_size=latent_size, hidden=128), run, progress=False)
    out = tmp_path_factory.mktemp("bundles") / name
    export_run(run, out, name=name)
    return out


@pytest.fixture(scope="module")
def model_a(tmp_path_factory):
    return small_digits(tmp_path_factory, "dir-a", 0, 8)


@pytest.fixture(scope="module")
def model_b(tmp_path_factory):
    return small_digits(tmp_path_factory, "dir-b", 1, 4)


@pytest.fixture
def digits(model_a, tmp_path):
    """A private copy of model A (digits, MLP, Z = 8, 20 epochs) to add directions to."""
    return shutil.copytree(model_a, tmp_path / "digits")


# 1. The math, on synthetic latents with known answers.

def planted(n=4000, z=8, seed=0):
    rng = np.random.default_rng(seed)
    codes = rng.standard_normal((n, z))
    v = dirs.unit(rng.standard_normal(z))
    return codes, v, codes @ v


@pytest.mark.parametrize("source", ["attribute", "attribute-anisotropic", "probe-logistic", "probe-svm", "class-mean"])
def test_planted_direction_is_found(source):
    codes, v, t = planted()
    if source == "attribute":
        got, r2 = dirs.attribute(codes, 3 * t + 0.1 * np.random.default_rng(1).standard_normal(len(t)))
        assert r2 > 0.99
    elif source == "attribute-anisotropic":
        scaled = codes * np.linspace(0.2, 3, codes.shape[1])  # ridge undoes the code covariance
        w = dirs.unit(np.random.default_rng(2).standard_normal(codes.shape[1]))
        got, _ = dirs.attribute(scaled, scaled @ w)
        v = w
    elif source.startswith("probe"):
        got, accuracy = dirs.probe(codes, (t > 0).astype(int), 1, model=source.split("-")[1])
        assert accuracy > 0.97
    else:
        labels = np.where(t > 0.5, 1, np.where(t < -0.5, 2, 0))
        got = dirs.class_mean(codes, labels, 1, 2)
    assert got @ v >= 0.99, f"cosine {got @ v:.4f} with the planted direction"


def test_gram_schmidt_and_conditional_are_orthogonal():
    rng = np.random.default_rng(0)
    vs = [dirs.unit(rng.standard_normal(10) + (2 if i else 0)) for i in range(5)]  # correlated, not parallel
    out = dirs.gram_schmidt(vs, list("abcde"))
    c = dirs.cosines(out)
    assert np.abs(c - np.eye(5)).max() <= 1e-6
    np.testing.assert_allclose(out[0], vs[0], atol=1e-12)  # the first stays as it is
    for i in range(1, 5):  # each lies in the span of the inputs up to it, on the side of its own input
        basis = np.array(vs[:i + 1]).T
        assert np.linalg.norm(basis @ np.linalg.lstsq(basis, out[i], rcond=None)[0] - out[i]) < 1e-9
        assert out[i] @ vs[i] > 0
    primal = vs[4]
    got = dirs.conditional(primal, vs[:3])
    assert max(abs(got @ w) for w in vs[:3]) <= 1e-6 and got @ primal > 0
    # InterfaceGAN's closed form for one condition: n - (n.c) c, normalized
    one = dirs.conditional(primal, [vs[0]])
    np.testing.assert_allclose(one, dirs.unit(primal - (primal @ vs[0]) * vs[0]), atol=1e-12)


@pytest.mark.parametrize("second", [lambda v: 2 * v, lambda v: -v, lambda v: v + 1e-5])
def test_parallel_directions_are_an_error(second):
    v = dirs.unit(np.arange(1.0, 7.0))
    with pytest.raises(ArgumentError, match="is parallel to a"):
        dirs.gram_schmidt([v, second(v)], ["a", "b"])
    with pytest.raises(ArgumentError, match="parallel"):
        dirs.conditional(second(v), [v])


# 2. On a real (small) run, through the bundle's own graphs.

def test_effect_matrix_moves_the_target_attribute(digits):
    m = add_directions(digits, attributes=["area", "brightness", "width", "x", "y"], examples=200)
    d = m.directions
    assert d.n_examples == 200 and d.sigma == 2 and d.fit["components"]
    assert d.attributes == ["brightness", "width", "area", "x", "y"], "height is constant on 8x8 digits: no column"
    for item in d.items:
        own = item.effect[d.attributes.index(item.name)]
        assert own > 0.2, f"{item.name} moves its own attribute by {own:+.2f} std"
        assert item.effect == item.effect_raw and item.orthogonal_to == []
    axes = {a.name: a for a in m.axes}
    for item in d.items:  # the axis is the unit direction; the slider spans ±3 spreads
        v = np.array(axes[item.name].direction)
        assert abs(np.linalg.norm(v) - 1) < 1e-9 and axes[item.name].max == pytest.approx(3 * item.spread)
    # the manifest is what a reader sees, and the bundle is still a bundle the site copies whole
    assert bundle.read_manifest(digits).to_json() == json.loads((digits / "manifest.json").read_text())
    assert set(m.files()) == {"decoder.onnx", "encoder.onnx", "map.f16", "map.png"}


def test_effect_matrix_is_measured_as_documented(digits):
    """Recompute one entry by hand: move the chosen examples ±2σ, decode, measure, divide by the std."""
    m = add_directions(digits, attributes=["area"], examples=64, seed=3, map_points=0)
    item, d = m.directions.items[0], m.directions
    rt = Runtime(digits)
    data = load_images("digits")
    codes = rt.encode(data.x_train).astype(np.float64)
    moved = codes[np.sort(np.random.default_rng(3).choice(len(codes), 64, replace=False))]
    v = np.array(m.axes[-1].direction)
    assert item.spread == pytest.approx(np.std(codes @ v))
    lo, hi = (measure(rt.decode(moved + s * 2 * item.spread * v))["area"] for s in (-1, 1))
    assert item.effect[d.attributes.index("area")] == pytest.approx((hi - lo).mean() / np.std(measure(data.x_train)["area"]))
    assert m.map is None and not (digits / "map.f16").exists()


def test_orthogonalized_records_before_and_after(digits):
    m = add_directions(digits, attributes=["area", "brightness", "width"], class_means=[("one", "1", None)],
                       orthogonalize=[["area", "brightness"]], conditions={"width": ["area", "one"]}, examples=64)
    d = m.directions
    names = [i.name for i in d.items]
    final = np.array(d.cosine)
    assert abs(final[names.index("area"), names.index("brightness")]) <= 1e-6
    assert max(abs(final[names.index("width"), names.index(k)]) for k in ("area", "one")) <= 1e-6
    assert abs(np.array(d.cosine_raw)[names.index("area"), names.index("brightness")]) > 0.01
    b = d.items[names.index("brightness")]
    assert b.orthogonal_to == ["area"] and b.effect != b.effect_raw and b.raw != m.axes[-3].direction
    assert d.items[names.index("width")].orthogonal_to == ["area", "one"]


def test_edit_direction_is_the_difference_of_the_encodings(digits, cli, tmp_path):
    data = load_images("digits")
    before = data.x_test[:3]
    after = before.copy()
    after[:, 1:, :] = before[:, :-1, :]  # moved down one pixel
    rt = Runtime(digits)
    diff = (rt.encode(after) - rt.encode(before)).mean(0)
    m = add_directions(digits, edits={"down": (before, after)}, edit_points={"pts": (np.zeros(8), np.eye(8)[0])},
                       map_points=0, examples=16)
    item = m.directions.items[0]
    np.testing.assert_allclose(np.array(m.axes[-2].direction) * item.source["norm"], diff, atol=1e-6)
    np.testing.assert_allclose(m.axes[-1].direction, np.eye(8)[0])
    np.save(tmp_path / "a.npy", before[0])
    np.save(tmp_path / "b.npy", after[0])
    code, out, err = cli("directions", digits, "--edit", f"down={tmp_path / 'a.npy'}:{tmp_path / 'b.npy'}",
                         "--map-points", "0", "--examples", "16")
    assert code == 0, err
    m = bundle.read_manifest(digits)
    one = rt.encode(after[0])[0] - rt.encode(before[0])[0]
    np.testing.assert_allclose(np.array(m.axes[-1].direction) * m.directions.items[0].source["norm"], one, atol=1e-6)


def test_transfer_moves_the_attribute_on_the_other_model(digits, model_b, tmp_path):
    """A (Z = 8) and B (Z = 4, another seed), two digits runs: area fitted on A, carried to B
    through the ridge map of A's codes to B's, moves area on B in the same sign; R² is recorded."""
    b = shutil.copytree(model_b, tmp_path / "b")
    add_directions(digits, attributes=["area"], map_points=0, examples=64)
    m = add_directions(b, attributes=["area"], transfer_from=digits, map_points=0, examples=200)
    items = {i.name: i for i in m.directions.items}
    moved = items["area@dir-a"]
    col = m.directions.attributes.index("area")
    assert moved.source["kind"] == "transfer" and moved.source["from"] == "dir-a"
    assert 0 < moved.source["map_r2_heldout"] <= 1 and moved.source["n_heldout"] > 100
    assert moved.effect[col] > 0.2, f"transferred area moves area on B by {moved.effect[col]:+.2f} std"
    assert items["area"].effect[col] > 0.2


# 3. The map, nearest examples and typicality: what the browser reads, checked independently.

def read_png(data):
    """Pixels of a non-interlaced 8-bit grey/RGB PNG whose rows all use the "up" filter (what
    encode_png writes): each row is the running sum of the rows before it, mod 256."""
    pos, idat = 8, b""
    while pos < len(data):
        (n,), kind = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        if kind == b"IHDR":
            w, h, depth, colour = struct.unpack(">IIBB", data[pos + 8:pos + 18])
        idat += data[pos + 8:pos + 8 + n] if kind == b"IDAT" else b""
        pos += n + 12
    bpp = 3 if colour == 2 else 1
    raw = np.frombuffer(zlib.decompress(idat), np.uint8).reshape(h, 1 + w * bpp)
    assert set(raw[:, 0]) == {2} and depth == 8
    out = np.cumsum(raw[:, 1:].astype(np.int64), 0) % 256
    return out.astype(np.uint8).reshape((h, w) if bpp == 1 else (h, w, 3))


def test_png_round_trip():
    rng = np.random.default_rng(0)
    for shape in ((5, 7), (4, 3, 3)):
        pixels = rng.integers(0, 256, shape, dtype=np.uint8)
        assert np.array_equal(read_png(encode_png(pixels)), pixels)


def test_map_nearest_examples_and_typicality(digits):
    from sklearn.neighbors import NearestNeighbors
    m = add_directions(digits, map_points=500)
    data = load_images("digits")
    rt = Runtime(digits)
    codes = rt.encode(data.x_train)
    mp = m.map
    assert mp.count == 500 and len(set(mp.indices)) == 500 and mp.dtype == "float16"
    counts = np.bincount(mp.labels, minlength=10)
    assert counts.max() - counts.min() <= 1, f"stratified by label: {counts}"
    assert mp.labels == data.y_train[mp.indices].tolist()
    pts = np.frombuffer((digits / mp.file).read_bytes(), "<f2").astype(np.float32).reshape(500, 8)
    np.testing.assert_array_equal(pts, codes[mp.indices].astype(np.float16).astype(np.float32))
    sprite = read_png((digits / mp.sprite).read_bytes())
    assert mp.columns == 23 and sprite.shape == (8 * 22, 8 * 23), "ceil(sqrt(500)) columns, 22 rows"
    i = 37
    tile = sprite[8 * (i // mp.columns):8 * (i // mp.columns + 1), 8 * (i % mp.columns):8 * (i % mp.columns + 1)]
    np.testing.assert_array_equal(tile, np.round(data.x_train[mp.indices[i]] * 255))
    # nearest examples: the reference the element is tested against equals scikit-learn's k-NN
    nn = NearestNeighbors(n_neighbors=6).fit(pts)
    for query in [codes[5], codes[900] + 0.3, np.zeros(8)]:
        want = nn.kneighbors(query[None], return_distance=False)[0]
        assert points.nearest(pts, query, 6).tolist() == want.tolist()
    # typicality: d² quantiles of all training codes, and the meter's percentile
    t = m.typicality
    d2 = ((codes.astype(np.float64) / np.array(m.pca.std)) ** 2).sum(1)
    assert t.statistic == "mahalanobis2" and t.n == len(codes) and len(t.quantiles) == 101
    assert t.quantiles[50] == pytest.approx(np.median(d2)) and t.quantiles[-1] == pytest.approx(d2.max())
    assert points.percentile(0.0, t.quantiles) == 0 and points.percentile(1e9, t.quantiles) == 100
    assert points.percentile(d2[11], t.quantiles) == pytest.approx(100 * (d2 < d2[11]).mean(), abs=1.5)


# 4. Bad inputs: one line, and the bundle stays byte-identical.

BAD = [
    (["--attribute-file", "{short}"], "10 values for 1438 training examples"),
    (["--attribute-file", "{nan}"], "value 3 is nan"),
    (["--attribute-file", "{csv}"], "bad.csv: line 3: 'abc' is not one number"),
    (["--attribute", "height"], "attribute height: is constant (8) over the 1438 examples"),
    (["--attribute", "area", "--orthogonalize", "area,wings"], "unknown direction 'wings'"),
    (["--vector", "a={v}", "--vector", "b={v2}", "--orthogonalize", "a,b"], "b: is parallel to a"),
    (["--class-mean", "one=1:0", "--class-mean", "zero=0:1", "--condition", "zero:one"], "zero: is parallel to one"),
    (["--attribute", "area", "--attribute", "area"], "direction name 'area' is given twice"),
    (["--attribute", "area", "--attribute", "x", "--attribute", "y", "--orthogonalize", "area,x", "--condition", "area:y"],
     "'area' would be changed twice"),
    (["--class-mean", "cats"], "unknown class 'cats'"),
    (["--vector", "a={short}"], "vector a: has 10 numbers; this bundle's points have 8"),
    (["--attribute", "area", "--data", "{other}"], "was fitted on 1438 images of shape (8, 8), but the data"),
    (["--attribute", "area", "--from", "{digits}"], "has no named directions to transfer"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_inputs_are_one_line_and_leave_the_bundle(digits, cli, tmp_path, args, message):
    v = dirs.unit(np.arange(1.0, 9.0))
    np.save(tmp_path / "short.npy", np.arange(10.0))
    np.save(tmp_path / "nan.npy", np.where(np.arange(1438) == 3, np.nan, np.arange(1438.0)))
    (tmp_path / "bad.csv").write_text("size\n1\nabc\n")
    np.save(tmp_path / "v.npy", v)
    np.save(tmp_path / "v2.npy", 3 * v)
    np.savez(tmp_path / "other.npz", x=np.random.default_rng(0).random((100, 8, 8)))
    files = {"other": tmp_path / "other.npz", "short": tmp_path / "short.npy", "nan": tmp_path / "nan.npy",
             "csv": tmp_path / "bad.csv", "v": tmp_path / "v.npy", "v2": tmp_path / "v2.npy", "digits": digits}
    before = snapshot(digits)
    code, out, err = cli("directions", digits, *[a.format(**files) for a in args])
    assert code == 1 and err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert message in err, err
    assert snapshot(digits) == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == [], "no staged leftovers"


def test_an_interrupted_write_leaves_the_bundle(digits, monkeypatch):
    before = snapshot(digits)

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(bundle, "write_manifest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        add_directions(digits, attributes=["area"], examples=16)
    assert snapshot(digits) == before
    assert sorted(p.name for p in digits.parent.iterdir()) == ["digits"]


def test_cli_writes_directions_and_reruns_replace_them(digits, cli):
    code, out, err = cli("directions", digits, "--attribute", "area", "--attribute", "brightness", "--probe", "7",
                         "--orthogonalize", "area,brightness", "--examples", "32", "--map-points", "100")
    assert code == 0, err
    assert "3 direction(s), map of 100 points" in out and "probe-7-vs-rest" in out
    m = bundle.read_manifest(digits)
    assert [a.name for a in m.axes if a.direction] == ["area", "brightness", "probe-7-vs-rest"]
    code, out, err = cli("directions", digits, "--class-mean", "1:0", "--map-points", "0", "--examples", "32")
    assert code == 0, err
    m = bundle.read_manifest(digits)
    assert [a.name for a in m.axes if a.direction] == ["1-vs-0"] and m.map is None
    assert sorted(p.name for p in digits.iterdir()) == ["decoder.onnx", "encoder.onnx", "manifest.json"]


def test_site_copies_the_map_files(digits, tmp_path):
    from exporter.site.build import build
    add_directions(digits, attributes=["area"], examples=16, map_points=100)
    build(tmp_path / "site", [digits])
    copied = tmp_path / "site" / "models" / "dir-a"
    assert sorted(p.name for p in copied.iterdir()) == ["decoder.onnx", "encoder.onnx", "manifest.json", "map.f16",
                                                        "map.png"]
    assert (copied / "map.png").read_bytes() == (digits / "map.png").read_bytes()
