"""The bundles committed in models/: readable, loadable, small, and honest about how they were made."""
import pytest
from conftest import ROOT, SHIPPED

from exporter.bundle import read_manifest
from exporter.export.graphs import session


@pytest.mark.parametrize("name", SHIPPED)
def test_shipped_bundle(name):
    folder = ROOT / "models" / name
    m = read_manifest(folder)
    assert m.name == name and m.format_version == 2
    for g in m.graphs.values():
        sess = session(folder / g.file)
        assert [i.name for i in sess.get_inputs()] == list(g.inputs)
        assert g.validation["n_inputs"] >= 256
        assert max(g.validation["max_abs_diff"].values()) <= g.atol
    assert "encoder" in m.graphs, "every shipped bundle lets users bring their own input"
    if m.kind == "image":
        assert m.graphs["decoder"].validation["anchors"]["max_abs_diff"]["pixels"] <= m.graphs["decoder"].atol
        f = m.metrics["faithfulness"]
        assert f["n_images"] >= 300 and f["mse_full"] <= f["mse_first_5_components"]
    assert sum(p.stat().st_size for p in folder.iterdir()) < 25e6
    assert len(m.anchors) >= 20
    p = m.provenance
    assert p["test_metrics"] and p["epochs"] >= 1 and p["train_seconds"] > 0 and "torch" in p["versions"]
