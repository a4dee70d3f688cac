"""The export gate: the full PCA inside the graphs, validation catching broken graphs, atomic
bundles, and points that are the model's own: anchors decode to decoder(mu), encoders invert."""
import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from torch import nn

from exporter import bundle
from exporter.bundle.schema import GraphSpec
from exporter.errors import AtolError, ExportValidationError, OutputNameError, ShapeError
from exporter.export.graphs import export, session
from exporter.export.image import PCADecoder, export_image_bundle
from exporter.export.validate import validate
from exporter.space.pca import fit_pca
from exporter.space.pca import std as pca_std
from exporter.space.points import validation_coords


def latents(n=300, z=8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, z)) @ rng.standard_normal((z, z))).astype(np.float32)


def small_decoder(z=8, shape=(4, 6)):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(z, 32), nn.Tanh(), nn.Linear(32, shape[0] * shape[1]),
                         nn.Unflatten(1, shape), nn.Sigmoid())


def test_pca_inverse_in_graph_equals_sklearn_and_is_exact(tmp_path):
    lat = latents()
    pca = fit_pca(lat)
    assert pca.components_.shape == (8, 8), "all Z components: a rotation"
    module = PCADecoder(nn.Unflatten(1, (2, 4)), pca.components_, pca.mean_, (2, 4))  # identity decoder
    spec = GraphSpec("g.onnx", {"coords": {"dtype": "float32", "shape": ["batch", 8]}},
                     {"z": {"dtype": "float32", "shape": ["batch", 2, 4]}})
    coords = validation_coords(np.sqrt(pca.explained_variance_), n=64)
    export(module, [torch.from_numpy(coords[:2])], tmp_path / "g.onnx", spec)
    (z,) = session(tmp_path / "g.onnx").run(None, {"coords": coords})
    expected = pca.inverse_transform(coords.astype(np.float64)).reshape(-1, 2, 4)
    np.testing.assert_allclose(z, expected, atol=1e-5)
    (back,) = session(tmp_path / "g.onnx").run(None, {"coords": pca.transform(lat[:50]).astype(np.float32)})
    np.testing.assert_allclose(back.reshape(50, 8), lat[:50], atol=1e-4), "a latent point comes back whole"


@pytest.fixture
def exported(tmp_path):
    """A small graph exported and validated once, for the breakage tests to damage."""
    lat = latents()
    pca = fit_pca(lat)
    module = PCADecoder(small_decoder(), pca.components_, pca.mean_, (4, 6)).eval()
    spec = GraphSpec("decoder.onnx", {"coords": {"dtype": "float32", "shape": ["batch", 8]}},
                     {"pixels": {"dtype": "float32", "shape": ["batch", 4, 6]}})
    coords = validation_coords(np.sqrt(pca.explained_variance_))
    path = tmp_path / "decoder.onnx"
    export(module, [torch.from_numpy(coords[:2])], path, spec)
    validate(path, module, spec, {"coords": coords})
    return path, module, spec, {"coords": coords}


def test_validation_records_max_diff(exported):
    _, _, spec, _ = exported
    assert spec.validation["n_inputs"] == 256
    assert 0 <= spec.validation["max_abs_diff"]["pixels"] <= 1e-5


def nudge_initializer(path, name, delta):
    model = onnx.load(str(path))
    for init in model.graph.initializer:
        if init.name == name:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init) + np.float32(delta), name))
            break
    else:
        raise AssertionError(f"no initializer {name!r}")
    onnx.save(model, str(path))


def test_validation_catches_changed_weights(exported):
    path, module, spec, inputs = exported
    nudge_initializer(path, "pca.mean", 1e-2)  # the PCA mean, inside the graph
    with pytest.raises(AtolError, match="max abs diff"):
        validate(path, module, spec, inputs)


def test_validation_catches_renamed_output(exported):
    path, module, spec, inputs = exported
    model = onnx.load(str(path))
    old = model.graph.output[0].name
    model.graph.output[0].name = "image"
    for node in model.graph.node:
        node.output[:] = ["image" if o == old else o for o in node.output]
    onnx.save(model, str(path))
    with pytest.raises(OutputNameError, match=r"output names \['image'\]"):
        validate(path, module, spec, inputs)


def test_validation_catches_wrong_declared_shape(exported):
    path, module, spec, inputs = exported
    spec.outputs["pixels"]["shape"] = ["batch", 6, 4]
    with pytest.raises(ShapeError, match="declared"):
        validate(path, module, spec, inputs)


def test_validation_catches_a_corrupt_file(exported):
    path, module, spec, inputs = exported
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(ExportValidationError, match="onnx.checker"):
        validate(path, module, spec, inputs)


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_failed_export_leaves_previous_bundle_byte_identical(tmp_path):
    out = tmp_path / "b"
    export_image_bundle(small_decoder(), latents(), out, sliders=4)
    before = snapshot(out)
    no_sigmoid = nn.Sequential(*list(small_decoder())[:-1])  # outputs outside [0, 1]
    with pytest.raises(ExportValidationError, match=r"outside \[0, 1\]"):
        export_image_bundle(no_sigmoid, latents(), out, sliders=4)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temp folders left behind


def test_interrupted_export_leaves_previous_bundle(tmp_path, monkeypatch):
    out = tmp_path / "b"
    export_image_bundle(small_decoder(), latents(), out, sliders=4)
    before = snapshot(out)

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(bundle, "write_manifest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_image_bundle(small_decoder(), latents(seed=1), out, sliders=4)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_manifest_content(digits_bundle):
    m = json.loads((digits_bundle / "manifest.json").read_text())
    assert (m["format"], m["format_version"], m["kind"], m["name"]) == ("latent-explorer-bundle", 2, "image", "test-digits")
    g = m["graphs"]["decoder"]
    assert g["file"] == "decoder.onnx" and (digits_bundle / g["file"]).is_file()
    assert g["inputs"] == {"coords": {"dtype": "float32", "shape": ["batch", 8]}}
    assert g["outputs"] == {"pixels": {"dtype": "float32", "shape": ["batch", 8, 8]}}
    assert g["atol"] == 1e-5 and g["validation"]["max_abs_diff"]["pixels"] <= 1e-5
    assert g["validation"]["n_inputs"] >= 256
    assert g["validation"]["anchors"]["n_inputs"] == len(m["anchors"])
    assert g["validation"]["anchors"]["max_abs_diff"]["pixels"] <= 1e-5, "anchor decodes equal torch decoder(mu)"
    e = m["graphs"]["encoder"]
    assert e["inputs"] == {"pixels": {"dtype": "float32", "shape": ["batch", 8, 8]}}
    assert e["outputs"] == {"coords": {"dtype": "float32", "shape": ["batch", 8]}}
    assert e["validation"]["max_abs_diff"]["coords"] <= 1e-5 and e["validation"]["n_inputs"] >= 256
    assert m["latent"] == {"size": 8}
    p = m["pca"]
    std, ratio = p["std"], p["explained_variance_ratio"]
    assert len(std) == len(ratio) == len(p["mean"]) == 8 and np.shape(p["components"]) == (8, 8)
    assert ratio == sorted(ratio, reverse=True) and sum(ratio) == pytest.approx(1)
    np.testing.assert_allclose(np.array(p["components"]) @ np.array(p["components"]).T, np.eye(8), atol=1e-6)
    shown = [a["component"] for a in m["axes"]]
    assert shown == list(range(len(shown))) and 1 <= len(shown) <= 5
    assert all(ratio[i] >= 0.005 for i in shown) and (len(shown) == 5 or ratio[len(shown)] < 0.005)
    for a in m["axes"]:
        assert a["name"] == f"PC{a['component'] + 1}"
        assert a["min"] == pytest.approx(-3 * std[a["component"]]) and a["max"] == pytest.approx(3 * std[a["component"]])
    assert m["image"]["preprocess"] == {"background": 0.0, "ink": 1.0, "resize": "area"}
    assert m["dataset"]["name"] == "digits" and m["dataset"]["label_names"] == [str(i) for i in range(10)]
    assert len(m["anchors"]) >= 20
    assert {a["label"] for a in m["anchors"]} == set(range(10))
    assert all(len(a["coords"]) == 8 for a in m["anchors"])
    f = m["metrics"]["faithfulness"]
    assert f["n_images"] > 100 and 0 <= f["mse_full"] <= f["mse_first_5_components"]
    p = m["provenance"]
    assert p["seed"] == 0 and p["epochs"] == 3 and set(p["final_losses"]) == {"loss", "reconstruction", "kl"}
    assert p["config"]["model"]["arch"] == "mlp" and p["config"]["train"]["epochs"] == 3
    assert {"torch", "onnx", "onnxruntime"} <= set(p["versions"])
    assert set(p["test_metrics"]) >= {"neg_elbo", "reconstruction", "kl", "active_units"}


def test_single_file_graphs_with_dynamic_batch(digits_bundle):
    assert sorted(p.name for p in digits_bundle.iterdir()) == ["decoder.onnx", "encoder.onnx", "manifest.json"]
    dec, enc = session(digits_bundle / "decoder.onnx"), session(digits_bundle / "encoder.onnx")
    for b in (1, 7):
        (px,) = dec.run(None, {"coords": np.zeros((b, 8), np.float32)})
        assert px.shape == (b, 8, 8) and 0 <= px.min() and px.max() <= 1
        (coords,) = enc.run(None, {"pixels": px})
        assert coords.shape == (b, 8)


def test_anchors_are_the_models_own_points(digits_run, digits_bundle):
    """Anchors are real training images: their coords are the full PCA coordinates of mu(x), they
    decode to the model's own reconstruction decoder(mu), and the encoder graph gives them back."""
    from exporter.data import load_images
    from exporter.space.encode import image_means
    from exporter.train.image import load_model
    model, _ = load_model(digits_run)
    m = json.loads((digits_bundle / "manifest.json").read_text())
    x = load_images("digits").x_train
    mu = image_means(model, x)
    pca = fit_pca(mu)
    idx = [a["index"] for a in m["anchors"]]
    coords = np.array([a["coords"] for a in m["anchors"]], np.float32)
    np.testing.assert_allclose(coords, pca.transform(mu[idx].astype(np.float64)), atol=1e-4)
    (px,) = session(digits_bundle / "decoder.onnx").run(None, {"coords": coords})
    with torch.no_grad():
        own = model.decode(torch.from_numpy(mu[idx])).numpy()
    np.testing.assert_allclose(px, own, atol=1e-5)
    (back,) = session(digits_bundle / "encoder.onnx").run(None, {"pixels": x[idx]})
    np.testing.assert_allclose(back, coords, atol=1e-5)


def test_sliders_leave_out_components_that_explain_almost_nothing(tmp_path):
    rng = np.random.default_rng(0)
    lat = (rng.standard_normal((400, 6)) * [3, 2, 1, 0.5, 0.01, 0.001]).astype(np.float32)
    dec = small_decoder(z=6)
    m = export_image_bundle(dec, lat, tmp_path / "b", sliders=5)
    assert [a.component for a in m.axes] == [0, 1, 2, 3]
    m = export_image_bundle(dec, lat, tmp_path / "b", sliders=2)
    assert [a.component for a in m.axes] == [0, 1]


def test_an_encoder_is_exported_and_validated(tmp_path):
    """The Python API with and without an encoder (x -> mu): with one, encoder.onnx inverts the
    latent codes of images through the PCA; a broken one aborts the export."""
    torch.manual_seed(0)
    dec, enc = small_decoder(), nn.Sequential(nn.Flatten(), nn.Linear(24, 8))
    lat = latents()
    m = export_image_bundle(dec, lat, tmp_path / "plain")
    assert set(m.graphs) == {"decoder"}
    m = export_image_bundle(dec, lat, tmp_path / "full", encoder=enc)
    assert set(m.graphs) == {"decoder", "encoder"}
    x = np.random.default_rng(1).random((5, 4, 6), dtype=np.float32)
    (coords,) = session(tmp_path / "full" / "encoder.onnx").run(None, {"pixels": x})
    with torch.no_grad():
        mu = enc(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(coords, fit_pca(lat).transform(mu.astype(np.float64)), atol=1e-5)


@pytest.mark.parametrize("mode", ["float16", "int8"])
def test_compressed_weights_are_smaller_and_gated(tmp_path, mode):
    """--weights float16|int8: the big matrices are stored small and restored to float32 inside the
    graph; the file is the rounded torch decoder, held to it at the graph's own atol, and the
    difference to the float32 graph is recorded."""
    torch.manual_seed(0)
    dec = nn.Sequential(nn.Linear(8, 256), nn.Tanh(), nn.Linear(256, 256), nn.Unflatten(1, (16, 16)), nn.Sigmoid())
    full = export_image_bundle(dec, latents(), tmp_path / "f32")
    small = export_image_bundle(dec, latents(), tmp_path / mode, weights=mode)
    size = {k: (tmp_path / k / "decoder.onnx").stat().st_size for k in ("f32", mode)}
    assert size[mode] < {"float16": 0.6, "int8": 0.35}[mode] * size["f32"], size
    g = small.graphs["decoder"]
    assert g.weights == mode and g.atol == 1e-5 and full.graphs["decoder"].weights == "float32"
    assert g.validation["max_abs_diff"]["pixels"] <= 1e-5 and g.validation["anchors"]["max_abs_diff"]["pixels"] <= 1e-5
    assert 1e-5 < g.validation["vs_float32_graph"] < {"float16": 5e-3, "int8": 0.05}[mode]
    q = small.metrics["quantization"]
    assert q["max_pixel_diff_vs_float32"] == g.validation["vs_float32_graph"] and q["n"] == 256
    assert q["weights"] == {"decoder.0.weight": "float16", "decoder.2.weight": mode}
    types = {n.op_type for n in onnx.load(str(tmp_path / mode / "decoder.onnx")).graph.node}
    assert {"float16": "Cast", "int8": "DequantizeLinear"}[mode] in types
    assert "quantization" not in full.metrics


def test_gptq_codes_keep_a_layers_outputs_closer_than_rounding_to_nearest():
    """Same scales and code range as round-to-nearest int8, smaller output error on correlated inputs."""
    from exporter.export.gptq import gptq_int8_rows
    from exporter.export.weights import int8_rows
    rng = np.random.default_rng(0)
    w = rng.standard_normal((96, 128)).astype(np.float32)
    x = (rng.standard_normal((2000, 32)) @ rng.standard_normal((32, 128))).astype(np.float32)
    q, scale = gptq_int8_rows(w, x)
    q0, scale0 = int8_rows(w)
    assert q.dtype == np.int8 and np.abs(q.astype(int)).max() <= 127 and np.array_equal(scale, scale0)
    assert not np.array_equal(q, q0)

    def err(q):
        return np.abs(x @ (q * scale[:, None]).T - x @ w.T).mean()

    assert err(q) < 0.5 * err(q0), (err(q), err(q0))


@pytest.fixture(scope="module")
def digits_int8(digits_run, digits_bundle, tmp_path_factory):
    """The trained digits run exported as float32 (the session's bundle) and with --weights int8."""
    from exporter.export.image import export_run
    out = tmp_path_factory.mktemp("int8") / "d-int8"
    return {"float32": (bundle.read_manifest(digits_bundle), digits_bundle),
            "int8": (export_run(digits_run, out, sliders=5, name="d-int8", weights="int8"), out)}


def test_int8_file_is_the_rounded_torch_decoder(digits_int8):
    """A trained model: the int8 file passes the gate at the graph's atol, against the rounded
    decoder whose weights it stores as int8 codes (restored by DequantizeLinear)."""
    m, path = digits_int8["int8"]
    g = m.graphs["decoder"]
    assert g.weights == "int8" and g.atol == 1e-5
    assert g.validation["n_inputs"] == 256 + 30 and g.validation["max_abs_diff"]["pixels"] <= 1e-5
    assert g.validation["anchors"]["max_abs_diff"]["pixels"] <= 1e-5
    model = onnx.load(str(path / "decoder.onnx"))
    codes = [i for i in model.graph.initializer if i.data_type == onnx.TensorProto.INT8]
    assert len(codes) == 2, [i.name for i in codes]
    assert sum(n.op_type == "DequantizeLinear" for n in model.graph.node) == 2
    assert m.metrics["quantization"]["weights"] == {"decoder.0.0.weight": "float16", "decoder.0.2.weight": "int8",
                                                   "decoder.0.4.weight": "int8"}


def test_int8_records_its_difference_to_float32(digits_int8):
    """metrics["quantization"] holds the max pixel difference between the int8 and float32 files on
    the export's validation coords, and on the anchors."""
    (m32, p32), (m8, p8) = digits_int8["float32"], digits_int8["int8"]
    coords = validation_coords(np.array(m8.pca.std), seed=0)
    anchors = np.array([a.coords for a in m8.anchors], np.float32)

    def diff(c):
        return float(np.abs(session(p8 / "decoder.onnx").run(None, {"coords": c})[0]
                            - session(p32 / "decoder.onnx").run(None, {"coords": c})[0]).max())

    q = m8.metrics["quantization"]
    assert q["n"] == 256 and q["n_anchors"] == 30 and "GPTQ" in q["method"]
    assert q["max_pixel_diff_vs_float32"] == pytest.approx(diff(coords), abs=1e-6)
    assert q["anchors_max_pixel_diff_vs_float32"] == pytest.approx(diff(anchors), abs=1e-6)
    assert 0 < q["anchors_max_pixel_diff_vs_float32"] <= q["max_pixel_diff_vs_float32"] < 0.05
    assert m8.metrics["faithfulness"] == m32.metrics["faithfulness"]


def test_gptq_beats_rounding_to_nearest_on_a_trained_decoder(digits_run):
    """Same layout, same int8 scales, same coords: GPTQ's codes give a smaller max pixel difference
    to float32 than round-to-nearest, and the gate's coords are not among the calibration coords."""
    from exporter.data import load_images
    from exporter.export.image import calibration_coords
    from exporter.export.weights import round_image_module
    from exporter.space.encode import image_means
    from exporter.train.checkpoint import config
    from exporter.train.image import TrainConfig, load_model
    model, state = load_model(digits_run)
    cfg = config(TrainConfig, state, "train_config", digits_run)
    lat = image_means(model, load_images(cfg.dataset, cfg.data, seed=cfg.seed).x_train)
    pca = fit_pca(lat)
    std = pca_std(pca)
    module = PCADecoder(model.image_decoder(), pca.components_, pca.mean_, (8, 8)).eval()
    coords = torch.from_numpy(validation_coords(std, seed=0))
    train, gate = pca.transform(lat.astype(np.float64)).astype(np.float32), coords.numpy()

    def shared(c):
        return int((c[:, None] == gate[None]).all(-1).any(0).sum())

    calib = calibration_coords(std, train, 0, exclude=gate)
    assert len(calib) > 4096 and shared(calib) == 0 < shared(calibration_coords(std, train, 0)), \
        "the gate's coords (some +-5 sigma corners of 8 dims recur across seeds) are left out"
    gptq, stored = round_image_module(module, "int8", (torch.from_numpy(calib),))
    rtn, stored_rtn = round_image_module(module, "int8")
    assert {k: v[0] for k, v in stored.items()} == {k: v[0] for k, v in stored_rtn.items()}
    with torch.no_grad():
        ref = module(coords)
        d_gptq, d_rtn = (float((m(coords) - ref).abs().max()) for m in (gptq, rtn))
    assert d_gptq < 0.8 * d_rtn, (d_gptq, d_rtn)
