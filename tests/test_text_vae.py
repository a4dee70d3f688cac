"""Sentence VAE: one set of GRU weights for training and the exported step, the export gate for
both graph layouts (values and greedy tokens) and for int8 weights, exact resume, bad corpora,
the training controls (KL schedules, free bits, LR), the test metrics, the text manifest."""
import json
import random
import shutil
from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from exporter.errors import AtolError, DataError, TokenMismatchError
from exporter.export import text as text_export
from exporter.export.graphs import session
from exporter.export.text import export_text_run
from exporter.export.text_checks import check_tokens
from exporter.export.text_modules import PCAInit
from exporter.models.text_vae import BOS, EOS, GRULM, TextVAE, TextVAEConfig
from exporter.tokenizers.bpe import SentenceTokenizer
from exporter.train.text import (
    LM_DIR,
    TextTrainConfig,
    compare_with_lm,
    kl_weight,
    load_corpus,
    load_text_model,
    lr_factor,
    train_lm,
    train_text,
)

TINY = TextVAEConfig(vocab_size=40, emb=16, hidden=16, encoder_hidden=8, latent_size=4, max_len=12)


def tiny_corpus(path, n=300, seed=0):
    rng = random.Random(seed)
    subj = ["the cat", "a dog", "my friend", "the old man", "she", "he", "the teacher", "a bird"]
    verb = ["sat on", "looked at", "walked to", "ate", "saw", "liked", "found"]
    obj = ["the mat", "a tree", "the house", "some bread", "the river", "a book", "the car"]
    path.write_text("\n".join(f"{rng.choice(subj)} {rng.choice(verb)} {rng.choice(obj)} ." for _ in range(n)))
    return path


def tiny_cfg(path, **kw):
    return TextTrainConfig(**{"sentences": str(path), "max_tokens": 12, "epochs": 2, "batch_size": 16, "vocab_size": 300,
                              "iw_samples": 5, "prior_samples": 50, **kw})


@pytest.fixture(scope="module")
def text_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("text")
    corpus = tiny_corpus(tmp / "tiny.txt")
    run = tmp / "run"
    train_text(tiny_cfg(corpus), replace(TINY), run, progress=False)
    train_lm(tiny_cfg(corpus), replace(TINY), run / LM_DIR, progress=False)
    compare_with_lm(run)
    return run


@pytest.fixture(scope="module")
def text_bundles(text_run, tmp_path_factory):
    out = tmp_path_factory.mktemp("bundles")
    return {v: (out / v, export_text_run(text_run, out / v, sliders=3, variant=v).to_json()) for v in ("loop", "unrolled")}


@pytest.mark.parametrize("cls", [TextVAE, GRULM])
def test_step_decoder_equals_training_path(cls):
    """The exported one-step decoder reuses nn.GRU's parameters and computes the same logits."""
    torch.manual_seed(0)
    model = cls(replace(TINY)).eval()
    inputs = torch.randint(4, 40, (5, 9))
    inputs[:, 0] = BOS
    z = torch.randn(5, 4) if cls is TextVAE else None
    hidden = model.init(z) if cls is TextVAE else torch.zeros(5, 16)
    with torch.no_grad():
        full = model.decode(inputs, z, hidden if cls is TextVAE else None)   # (B, T, V)
        steps = []
        for t in range(inputs.shape[1]):
            logits, hidden = model.step(inputs[:, t], hidden, z)
            steps.append(logits)
    torch.testing.assert_close(torch.stack(steps, 1), full, atol=1e-5, rtol=1e-5)


def test_training_writes_metrics_and_reloads(text_run):
    model, state = load_text_model(text_run)
    m = state["test_metrics"]
    assert m["nll"] == pytest.approx(m["reconstruction"] + m["kl"])
    assert m["perplexity"] == pytest.approx(np.exp(m["nll"] * m["n_sentences"] / m["n_tokens"]))
    assert 0 <= m["exact_match"] <= m["token_accuracy"] <= 1 and m["n_sentences"] > 0
    assert m["iw_samples"] == 5 and m["nll_iw"] <= m["nll"] + 1.0  # importance-weighted: a tighter bound (up to noise)
    assert m["lm"]["nll"] > 0 and m["elbo_vs_lm"] == pytest.approx(m["nll"] / m["lm"]["nll"])
    assert m["iw_vs_lm"] == pytest.approx(m["nll_iw"] / m["lm"]["nll"])
    assert m["prior"]["n"] == 50 and 0 < m["prior"]["distinct"] <= 1 and m["prior"]["lm_perplexity"] > 1
    assert len(SentenceTokenizer.from_json(state["tokenizer"])) == model.cfg.vocab_size
    assert model.cfg.max_len == state["train_config"]["max_tokens"] + 1
    _, lm = load_text_model(text_run / LM_DIR, kind="text-lm")
    assert set(lm["test_metrics"]) == {"nll", "perplexity", "n_sentences", "n_tokens"}


@pytest.mark.parametrize("trainer", [train_text, train_lm])
def test_resume_matches_uninterrupted_run(tmp_path, trainer):
    """Resuming with a larger total is exact for schedules that do not depend on the total (the
    cosine LR and the cyclical KL weight stretch to the new total, so they change)."""
    corpus = tiny_corpus(tmp_path / "c.txt", n=120)
    fixed = {"lr_schedule": "constant", "kl_anneal": "linear", "kl_anneal_steps": 20}
    whole = trainer(tiny_cfg(corpus, epochs=3, **fixed), replace(TINY), tmp_path / "a", progress=False)
    trainer(tiny_cfg(corpus, epochs=1, **fixed), replace(TINY), tmp_path / "b", progress=False)
    resumed = trainer(TextTrainConfig(), TextVAEConfig(), tmp_path / "b", resume=True, epochs=3, progress=False)
    assert resumed["epoch"] == whole["epoch"] == 2 and resumed["step"] == whole["step"]
    for name, w in whole["model"].items():
        assert torch.equal(w, resumed["model"][name]), name
    assert [h["loss"] for h in resumed["history"]] == [h["loss"] for h in whole["history"]]


@pytest.mark.parametrize("content, problem", [
    (None, "file not found"),
    ("dir", "is a folder"),
    (b"", "empty file"),
    (b"a sentence\x00", "binary file"),
    (b"caf\xe9 au lait\n", "not valid UTF-8"),
    (b"\n  \n\n", "only blank lines"),
    (("word " * 20).encode(), "no usable sentence"),  # 20 tokens > max_tokens 12
])
def test_bad_sentence_file_raises_data_error(tmp_path, content, problem):
    path = tmp_path / "sentences.txt"
    if content == "dir":
        path.mkdir()
    elif content is not None:
        path.write_bytes(content)
    with pytest.raises(DataError, match=problem):
        train_text(tiny_cfg(path), replace(TINY), tmp_path / "run", progress=False)
    assert not (tmp_path / "run" / "checkpoint.pt").exists()


def test_exported_greedy_tokens_equal_torch(text_run, text_bundles):
    """Both layouts, run as the browser runs them, give torch's greedy sentences, extremes included."""
    model, _ = load_text_model(text_run)
    loop_dir, m = text_bundles["loop"]
    std = np.array(m["pca"]["std"], np.float32)
    coords = np.concatenate([[a["coords"] for a in m["anchors"]], np.diag(5 * std), np.diag(-5 * std)])
    coords = coords.astype(np.float32)
    z = PCAInit(model, np.array(m["pca"]["components"]), np.array(m["pca"]["mean"]))(torch.from_numpy(coords))[0]
    with torch.no_grad():
        expected = model.reconstruct(z)[0].numpy()
    unrolled = session(text_bundles["unrolled"][0] / "greedy.onnx").run(["tokens"], {"coords": coords})[0]
    looped = session(loop_dir / "loop.onnx").run(["tokens"], {"coords": coords})[0]
    ends = (expected == EOS).any(1)
    steps = (expected == EOS).argmax(1).max() + 1 if ends.all() else expected.shape[1]
    assert looped.shape == (len(coords), steps)  # it stops at the step where the last row ends
    np.testing.assert_array_equal(looped, expected[:, :steps])
    np.testing.assert_array_equal(unrolled, expected)
    assert unrolled.dtype == np.int64 and unrolled.shape == (len(coords), 13)
    for _, man in text_bundles.values():
        for key, g in man["graphs"].items():
            assert g["validation"]["n_inputs"] >= 256 and max(g["validation"]["max_abs_diff"].values()) <= 1e-4, key


def test_sentence_points_are_the_models_own(text_run, text_bundles):
    """Anchors hold full coordinates: each decodes to torch's greedy decode of its own mu; the
    exported encoder maps real sentences to the coordinates of their mu."""
    from exporter.export.text_modules import encoder_inputs
    from exporter.space.encode import sentence_means
    from exporter.space.pca import fit_pca
    from exporter.train.text import TextTrainConfig, load_corpus
    model, state = load_text_model(text_run)
    tok = SentenceTokenizer.from_json(state["tokenizer"])
    _, _, data, _ = load_corpus(TextTrainConfig(**state["train_config"]), tok)
    mu = sentence_means(model, data.train)
    pca = fit_pca(mu)
    folder, m = text_bundles["unrolled"]
    idx = [a["index"] for a in m["anchors"]]
    coords = np.array([a["coords"] for a in m["anchors"]], np.float32)
    assert coords.shape[1] == TINY.latent_size
    tokens = session(folder / "greedy.onnx").run(["tokens"], {"coords": coords})[0]
    with torch.no_grad():
        own = model.reconstruct(torch.from_numpy(mu[idx]))[0].numpy()
    np.testing.assert_array_equal(tokens, own)
    inputs = encoder_inputs(model, data.test.texts, tok)
    got = session(folder / "encoder.onnx").run(["coords"], inputs)[0]
    with torch.no_grad():
        want = model.encode(torch.from_numpy(inputs["tokens"]), torch.from_numpy(inputs["lengths"]))[0].numpy()
    np.testing.assert_allclose(got, pca.transform(want.astype(np.float64)), atol=1e-4)
    a = m["metrics"]["anchors"]
    assert a["n"] == len(idx) and 0 <= a["exact_match"] <= a["token_accuracy"] <= 1


def nudge(path, suffix, index, delta):
    model = onnx.load(str(path))
    init = next(i for i in model.graph.initializer if i.name.endswith(suffix))
    w = numpy_helper.to_array(init).copy()
    w[index] += np.float32(delta)
    init.CopyFrom(numpy_helper.from_array(w, init.name))
    onnx.save(model, str(path))


def snapshot(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("variant, atol, error", [
    ("loop", 1e-4, AtolError),             # one weight off by 1e-3: values differ (step.onnx, checked before the loop is built)
    ("unrolled", 1e-4, AtolError),
    ("loop", 1e9, TokenMismatchError),     # values "within atol", but the sentences change
    ("unrolled", 1e9, TokenMismatchError),
])
def test_broken_graph_aborts_export(text_run, text_bundles, tmp_path, monkeypatch, variant, atol, error):
    out = tmp_path / "bundle"
    shutil.copytree(text_bundles[variant][0], out)
    before = snapshot(out)
    real_export = text_export.export

    def broken_export(module, example, path, spec):
        real_export(module, example, path, spec)
        if path.name != "init.onnx":  # out_bias[</s>] up: every step now ends the sentence
            nudge(path, "out_bias", EOS, 1e-3 if error is AtolError else 100.0)
    monkeypatch.setattr(text_export, "export", broken_export)
    with pytest.raises(error) as info:
        export_text_run(text_run, out, sliders=3, variant=variant, atol=atol)
    assert (type(info.value) is TokenMismatchError) == (error is TokenMismatchError)
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bundle"]


def test_check_tokens_names_the_sentences():
    tok = SentenceTokenizer.train(["the cat sat"] * 3, 300)
    the, cat, sat = (tok.encode(w)[0] for w in ("the", "cat", "sat"))
    expected = np.array([[the, cat, EOS, sat], [the, sat, EOS, the]])
    check_tokens("g.onnx", expected, expected.copy(), tok)
    actual = expected.copy()
    actual[1, 3] = cat   # after </s>: the browser never shows it, but the graphs must still agree
    with pytest.raises(TokenMismatchError, match=r"1 of 2 .*'the sat', onnxruntime 'the sat'"):
        check_tokens("g.onnx", expected, actual, tok)


def test_text_manifest_content(text_run, text_bundles):
    files = {"loop": ["encoder.onnx", "loop.onnx", "manifest.json", "tokenizer.json"],
             "unrolled": ["encoder.onnx", "greedy.onnx", "manifest.json", "tokenizer.json"]}
    _, state = load_text_model(text_run)
    train = load_corpus(TextTrainConfig(**state["train_config"]))[2].train
    for variant, (folder, m) in text_bundles.items():
        assert sorted(p.name for p in folder.iterdir()) == files[variant]
        assert json.loads((folder / "manifest.json").read_text()) == m
        assert (m["format_version"], m["kind"], m["name"]) == (2, "text", "tiny")
        assert m["text"] == {"tokenizer": "tokenizer.json", "specials": {"pad": 0, "unk": 3, "bos": 1, "eos": 2},
                             "max_len": 13, "variant": variant}
        assert (folder / "tokenizer.json").read_text() == state["tokenizer"]
        tok = SentenceTokenizer.from_json(state["tokenizer"])
        assert [tok.token(i) for i in range(4)] == ["<pad>", "<s>", "</s>", "<unk>"]
        z, v, k = 4, len(tok), 4
        assert m["graphs"]["encoder"]["inputs"] == {"tokens": {"dtype": "int64", "shape": ["batch", 13]},
                                                    "lengths": {"dtype": "int64", "shape": ["batch"]}}
        assert m["graphs"]["encoder"]["outputs"] == {"coords": {"dtype": "float32", "shape": ["batch", z]}}
        if variant == "loop":
            assert list(m["graphs"]) == ["loop", "encoder"]
            assert m["graphs"]["loop"]["inputs"] == {"coords": {"dtype": "float32", "shape": ["batch", k]}}
            assert m["graphs"]["loop"]["outputs"] == {"tokens": {"dtype": "int64", "shape": ["batch", "steps"]}}
            parts = m["graphs"]["loop"]["validation"]["parts"]  # the pieces it is built from, each against torch
            assert set(parts) == {"init.onnx", "step.onnx"}
            assert set(parts["step.onnx"]["max_abs_diff"]) == {"logits", "hidden_out"}
            assert m["graphs"]["loop"]["validation"]["max_abs_diff"] == {"tokens": 0.0}
        else:
            assert list(m["graphs"]) == ["greedy", "encoder"]
            assert m["graphs"]["greedy"]["outputs"] == {"tokens": {"dtype": "int64", "shape": ["batch", 13]},
                                                        "logits": {"dtype": "float32", "shape": ["batch", 13, v]}}
        assert m["latent"] == {"size": z} and len(m["pca"]["std"]) == z
        assert [a["name"] for a in m["axes"]][:1] == ["PC1"] and len(m["axes"]) <= 3
        assert m["dataset"] == {"name": "tiny", "label_names": [], "n_latents": len(train)}
        assert len(m["anchors"]) >= 20 and all(a["label"] is None and len(a["coords"]) == k for a in m["anchors"])
        assert all(a["text"] == train.texts[a["index"]] for a in m["anchors"])  # the sentence behind the row
        t = m["metrics"]["test"]
        assert t["lm"]["perplexity"] > 1 and {"nll", "kl", "nll_iw", "token_accuracy", "exact_match", "elbo_vs_lm",
                                               "iw_vs_lm"} <= set(t)
        assert set(t["prior"]) >= {"n", "distinct", "lm_perplexity", "examples"} and "ids" not in t["prior"]
        assert m["provenance"]["epochs"] == 2 and m["provenance"]["config"]["model"]["latent_size"] == 4
        assert {"torch", "onnxruntime"} <= set(m["provenance"]["versions"])


@pytest.mark.parametrize("bidirectional", [True, False])
def test_unrolled_encoder_equals_packed_gru(bidirectional):
    """The exported encoder's step-by-step GRU (both directions, each frozen past its row's
    length) computes what nn.GRU does on the packed batch in training."""
    torch.manual_seed(0)
    model = TextVAE(replace(TINY, bidirectional=bidirectional)).eval()
    lengths = torch.tensor([1, 3, 7, 12, 5])
    tokens = torch.randint(4, 40, (5, 12))
    tokens[torch.arange(12)[None, :] >= lengths[:, None]] = 0
    with torch.no_grad():
        torch.testing.assert_close(model.encode_unrolled(tokens, lengths), model.encode(tokens, lengths)[0],
                                   atol=1e-5, rtol=1e-5)


def test_kl_and_lr_schedules():
    cfg = TextTrainConfig(epochs=4, kl_cycles=2, kl_ratio=0.5, beta=1.0, ae_epochs=1)
    spe = 10  # steps per epoch: 10 AE steps, then 2 cycles of 15 steps, rising over the first 7.5
    w = [kl_weight(cfg, s, spe) for s in range(40)]
    assert w[:10] == [0.0] * 10 and w[10] == 0.0 and w[13] == pytest.approx(3 / 7.5)
    assert w[18:25] == [1.0] * 7 and w[25] == 0.0 and w[39] == 1.0
    lin = TextTrainConfig(kl_anneal="linear", kl_anneal_steps=20)
    assert [kl_weight(lin, s, spe) for s in (0, 10, 20, 99)] == [0.0, 0.5, 1.0, 1.0]
    cos = TextTrainConfig(lr_min=0.05)
    assert lr_factor(cos, 0, 100) == 1.0 and lr_factor(cos, 50, 100) == pytest.approx(0.525)
    assert lr_factor(cos, 100, 100) == pytest.approx(0.05)
    assert lr_factor(TextTrainConfig(lr_schedule="constant"), 50, 100) == 1.0


def test_free_bits_floor_per_dimension():
    """Free bits: each latent dimension's batch-mean KL counts only above the floor."""
    from exporter.train.text import batch_loss

    class Fixed(torch.nn.Module):
        def forward(self, inputs, targets, lengths):
            mu = torch.tensor([[0.1, 3.0], [0.1, 3.0]])       # KL per dim: 0.005 and 4.5
            return torch.zeros(2, 1, 5), mu, torch.zeros(2, 2)
    batch = (torch.zeros(2, 1, dtype=torch.long), torch.ones(2, 1, dtype=torch.long), torch.ones(2, dtype=torch.long))
    loss0, rec, _ = batch_loss(Fixed(), batch, 1.0, 0.0)
    loss1, _, _ = batch_loss(Fixed(), batch, 1.0, 1.0)
    assert float(loss0 - rec.mean()) == pytest.approx(0.005 + 4.5)
    assert float(loss1 - rec.mean()) == pytest.approx(1.0 + 4.5)


def test_int8_export_gate_and_quantization_figure(text_run, tmp_path):
    """weights="int8": the embedding is stored as int8 in the encoder (restored by
    DequantizeLinear) and float16 in the decoder (Cast), the encoder's GRU matrices float16; the
    gate holds each file to the torch model rounded the same way; the manifest reports how often
    the rounded decoder decodes prior samples as float32 does."""
    from exporter.export.weights import round_module
    m = export_text_run(text_run, tmp_path / "q", sliders=3, variant="unrolled", weights="int8").to_json()
    g = onnx.load(str(tmp_path / "q" / "greedy.onnx"))
    assert any(n.op_type == "Cast" for n in g.graph.node[:3])
    assert any(i.data_type == onnx.TensorProto.FLOAT16 and i.name.endswith("embed.weight.f16") for i in g.graph.initializer)
    enc = onnx.load(str(tmp_path / "q" / "encoder.onnx"))
    assert any(n.op_type == "DequantizeLinear" for n in enc.graph.node)
    assert sum(i.data_type == onnx.TensorProto.FLOAT16 for i in enc.graph.initializer) == 4  # GRU, both ways
    assert not any(n.metadata_props for n in enc.graph.node)
    q = m["metrics"]["quantization"]
    assert q["n"] == 1000 and 0 <= q["identical"] <= 1 and q["decoder"] == {"embed.weight": "float16"}
    assert q["encoder"]["embed.weight"] == "int8"
    assert {g: spec["weights"] for g, spec in m["graphs"].items()} == {"greedy": "int8", "encoder": "int8"}
    model, _ = load_text_model(text_run)
    small, _ = round_module(model, q["decoder"])
    std = np.array(m["pca"]["std"], np.float32)
    coords = np.concatenate([np.diag(5 * std), np.diag(-5 * std), [a["coords"] for a in m["anchors"]]]).astype(np.float32)
    got = session(tmp_path / "q" / "greedy.onnx").run(["tokens"], {"coords": coords})[0]
    init = PCAInit(small.eval(), np.array(m["pca"]["components"]), np.array(m["pca"]["mean"]))
    with torch.no_grad():
        want = small.reconstruct(init(torch.from_numpy(coords))[0])[0].numpy()
    np.testing.assert_array_equal(got, want)
