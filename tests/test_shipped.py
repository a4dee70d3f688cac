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
    if m.kind == "text":  # issue 9: small, int8 that changes no sentence a user sees, anchors it reconstructs
        assert sum(p.stat().st_size for p in folder.iterdir()) <= 4e6
        assert m.metrics["quantization"]["n"] == 1000 and m.metrics["quantization"]["identical"] >= 0.95
        assert m.metrics["anchors"]["exact_match"] == 1.0 and m.text.tokenizer == "tokenizer.json"
        t = m.metrics["test"]
        assert {"kl", "token_accuracy", "exact_match", "nll", "nll_iw", "iw_vs_lm", "elbo_vs_lm"} <= set(t)
        assert t["prior"]["n"] == 1000 and t["prior"]["lm_perplexity"] > 1 and t["lm"]["perplexity"] > 1
    assert sum(p.stat().st_size for p in folder.iterdir()) < 25e6
    assert len(m.anchors) >= 20
    if m.directions is not None:  # each attribute direction, as shipped, moves its own attribute up
        for item in m.directions.items:
            if item.source["kind"] == "attribute" and not item.orthogonal_to:
                assert item.effect[m.directions.attributes.index(item.name)] > 1, item.name
        assert m.map.count >= 1000 and m.typicality.n == m.dataset.n_latents
    p = m.provenance
    assert m.metrics["test"] if m.kind == "text" else p["test_metrics"]
    assert p["epochs"] >= 1 and p["train_seconds"] > 0 and "torch" in p["versions"]


def test_readme_faithfulness_table_is_the_manifests():
    """The README's faithfulness figures are the ones the shipped manifests record."""
    import re
    rows = {name: (full, five) for name, full, five in re.findall(
        r"^\| `([a-z0-9.-]+)` \| [\d,]+ \| ([\d.]+) \| ([\d.]+) \| \d+ \|$", (ROOT / "README.md").read_text(), re.M)}
    images = [n for n in SHIPPED if read_manifest(ROOT / "models" / n).kind == "image"]
    assert sorted(rows) == sorted(images)
    for name in images:
        f = read_manifest(ROOT / "models" / name).metrics["faithfulness"]
        assert rows[name] == (f"{f['mse_full']:.4f}", f"{f['mse_first_5_components']:.4f}"), name


def sentence_section():
    readme = (ROOT / "README.md").read_text()
    return readme[readme.index("**The sentence model**"):readme.index("\n## Benchmarks")]


@pytest.mark.skipif("wordnet-sentences" not in SHIPPED, reason="the shipped sentence bundle is not in models/")
def test_readme_sentence_figures_are_the_manifests():
    """The README's figures for the shipped sentence model are the ones its manifest records."""
    m = read_manifest(ROOT / "models" / "wordnet-sentences")
    t, p = m.metrics["test"], m.provenance
    pct = lambda x: f"{100 * x:.1f}%"  # noqa: E731
    section = sentence_section()
    for figure in (f"**{t['kl']:.2f}** (all {t['active_units']} latent units active)",
                   f"**{pct(t['token_accuracy'])}**", f"**{pct(t['exact_match'])}**",
                   f"{t['nll_iw']:.2f} nats = **{t['iw_vs_lm']:.3f}×** the LM's {t['lm']['nll']:.2f}",
                   f"one-sample ELBO {t['nll']:.2f} = {t['elbo_vs_lm']:.3f}×",
                   f"**{100 * t['prior']['distinct']:.0f}%**",
                   f"{t['prior']['lm_perplexity']:.1f} (its test perplexity: {t['lm']['perplexity']:.1f})",
                   f"{p['lm']['epochs']} epochs with the same schedule",
                   f"{pct(m.metrics['anchors']['candidates_exact'])} of {m.metrics['anchors']['candidates']:,} training",
                   f"**{pct(m.metrics['quantization']['identical'])}** of 1,000 prior samples"):
        assert figure in section, figure
    row = (f"{p['epochs']} epochs on 43,265 WordNet sentences, tested on {t['n_sentences']:,} | see below: "
           f"KL {t['kl']:.1f}, token accuracy {pct(t['token_accuracy'])}, exact match {pct(t['exact_match'])}, "
           f"IW NLL {t['iw_vs_lm']:.3f}× the LM | {p['train_seconds']:.0f} s + LM {p['lm']['train_seconds']:.0f} s |")
    assert row in (ROOT / "README.md").read_text(), row


@pytest.mark.skipif("wordnet-sentences" not in SHIPPED, reason="the shipped sentence bundle is not in models/")
def test_readme_homotopy_is_the_shipped_bundles():
    """The README's homotopy is what benchmarks/text_homotopy.py decodes with the shipped bundle today."""
    import importlib.util
    from pathlib import Path
    if not Path("/usr/share/wordnet").is_dir():
        pytest.skip("WordNet not installed in /usr/share/wordnet (apt-get install wordnet-base)")
    spec = importlib.util.spec_from_file_location("text_homotopy", ROOT / "benchmarks" / "text_homotopy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    first, last, rows = module.homotopy(ROOT / "models" / "wordnet-sentences")
    section = sentence_section()
    table = section[section.index("**A homotopy**"):].split("| --- | --- |\n", 1)[1].split("\n\n", 1)[0]
    assert table.splitlines() == [f"| {t:.2f} | {text} |" for t, text in rows]
    assert (rows[0][1], rows[-1][1]) == (first, last)  # both ends are the test sentences themselves
