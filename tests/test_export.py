"""The export gate: PCA inverse inside the graph, validation catching broken graphs, atomic bundles."""
import json

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper
from torch import nn

from exporter import bundle
from exporter.errors import AtolError, ExportValidationError, OutputNameError, ShapeError
from exporter.image_export import PCADecoder, export_image_bundle
from exporter.latents import fit_pca, validation_coords
from exporter.onnx_export import GraphSpec, export, session, validate


def latents(n=300, z=8, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n, z)) @ rng.standard_normal((z, z))).astype(np.float32)


def small_decoder(z=8, shape=(4, 6)):
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(z, 32), nn.Tanh(), nn.Linear(32, shape[0] * shape[1]),
                         nn.Unflatten(1, shape), nn.Sigmoid())


def test_pca_inverse_in_graph_equals_sklearn(tmp_path):
    lat = latents()
    pca = fit_pca(lat, 3)
    module = PCADecoder(nn.Unflatten(1, (2, 4)), pca.components_, pca.mean_, (2, 4))  # identity decoder
    spec = GraphSpec("g.onnx", {"coords": {"dtype": "float32", "shape": ["batch", 3]}},
                     {"z": {"dtype": "float32", "shape": ["batch", 2, 4]}})
    coords = validation_coords(np.sqrt(pca.explained_variance_), n=64)
    export(module, [torch.from_numpy(coords[:2])], tmp_path / "g.onnx", spec)
    (z,) = session(tmp_path / "g.onnx").run(None, {"coords": coords})
    expected = pca.inverse_transform(coords.astype(np.float64)).reshape(-1, 2, 4)
    np.testing.assert_allclose(z, expected, atol=1e-5)


@pytest.fixture
def exported(tmp_path):
    """A small graph exported and validated once, for the breakage tests to damage."""
    lat = latents()
    pca = fit_pca(lat, 4)
    module = PCADecoder(small_decoder(), pca.components_, pca.mean_, (4, 6)).eval()
    spec = GraphSpec("decoder.onnx", {"coords": {"dtype": "float32", "shape": ["batch", 4]}},
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
    export_image_bundle(small_decoder(), latents(), out, k=4)
    before = snapshot(out)
    no_sigmoid = nn.Sequential(*list(small_decoder())[:-1])  # outputs outside [0, 1]
    with pytest.raises(ExportValidationError, match=r"outside \[0, 1\]"):
        export_image_bundle(no_sigmoid, latents(), out, k=4)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]  # no temp folders left behind


def test_interrupted_export_leaves_previous_bundle(tmp_path, monkeypatch):
    out = tmp_path / "b"
    export_image_bundle(small_decoder(), latents(), out, k=4)
    before = snapshot(out)

    def interrupted(*a, **k):
        raise KeyboardInterrupt
    monkeypatch.setattr(bundle, "write_manifest", interrupted)
    with pytest.raises(KeyboardInterrupt):
        export_image_bundle(small_decoder(), latents(seed=1), out, k=4)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b"]


def test_manifest_content(digits_bundle):
    m = json.loads((digits_bundle / "manifest.json").read_text())
    assert (m["format"], m["format_version"], m["kind"], m["name"]) == ("latent-explorer-bundle", 1, "image", "test-digits")
    g = m["graphs"]["decoder"]
    assert g["file"] == "decoder.onnx" and (digits_bundle / g["file"]).is_file()
    assert g["inputs"] == {"coords": {"dtype": "float32", "shape": ["batch", 5]}}
    assert g["outputs"] == {"pixels": {"dtype": "float32", "shape": ["batch", 8, 8]}}
    assert g["atol"] == 1e-5 and g["validation"]["max_abs_diff"]["pixels"] <= 1e-5
    assert g["validation"]["n_inputs"] >= 256
    assert m["latent"] == {"size": 8, "k": 5}
    std, ratio = m["pca"]["std"], m["pca"]["explained_variance_ratio"]
    assert len(std) == len(ratio) == 5 and ratio == sorted(ratio, reverse=True) and 0 < sum(ratio) <= 1
    assert [a["name"] for a in m["axes"]] == [f"PC{i}" for i in range(1, 6)]
    for a, s in zip(m["axes"], std):
        assert a["min"] == pytest.approx(-3 * s) and a["max"] == pytest.approx(3 * s)
    assert m["dataset"]["name"] == "digits" and m["dataset"]["label_names"] == [str(i) for i in range(10)]
    assert len(m["anchors"]) >= 20
    assert {a["label"] for a in m["anchors"]} == set(range(10))
    assert all(len(a["coords"]) == 5 for a in m["anchors"])
    p = m["provenance"]
    assert p["seed"] == 0 and p["epochs"] == 3 and set(p["final_losses"]) == {"loss", "reconstruction", "kl"}
    assert p["config"]["model"]["arch"] == "mlp" and p["config"]["train"]["epochs"] == 3
    assert {"torch", "onnx", "onnxruntime"} <= set(p["versions"])
    assert set(p["test_metrics"]) >= {"neg_elbo", "reconstruction", "kl", "active_units"}


def test_single_file_graph_with_dynamic_batch(digits_bundle):
    assert sorted(p.name for p in digits_bundle.iterdir()) == ["decoder.onnx", "manifest.json"]
    sess = session(digits_bundle / "decoder.onnx")
    for b in (1, 7):
        (px,) = sess.run(None, {"coords": np.zeros((b, 5), np.float32)})
        assert px.shape == (b, 8, 8) and 0 <= px.min() and px.max() <= 1


def test_anchor_coords_are_pca_of_real_examples(digits_run, digits_bundle):
    """Anchors are real training images: their coords are the PCA projection of μ(x)."""
    from exporter.data import load_images
    from exporter.image_export import encode_means
    from exporter.train import load_model
    model, _ = load_model(digits_run)
    m = json.loads((digits_bundle / "manifest.json").read_text())
    mu = encode_means(model, load_images("digits").x_train)
    pca = fit_pca(mu, 5)
    for a in m["anchors"][:5]:
        np.testing.assert_allclose(a["coords"], pca.transform(mu[[a["index"]]].astype(np.float64))[0], atol=1e-4)
