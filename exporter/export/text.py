"""A text bundle: the sentence decoder as ONNX in one of two layouts, the sentence encoder, and
the tokenizer (tokenizer.json, byte-level BPE: exporter/tokenizers/bpe.py, which the browser loads
with @huggingface/tokenizers). Coordinates are full PCA coordinates (coords (B, Z)).

"loop":     loop.onnx   coords (B, Z) -> tokens (B, steps) int64, steps <= max_len
            The greedy loop as an ONNX Loop that stops once every row has emitted </s>
            (export/loop.py), composed from init.onnx (coords -> z, hidden) and step.onnx (token,
            hidden, z -> logits, hidden_out), each validated against torch first.
"unrolled": greedy.onnx coords (B, Z) -> tokens (B, max_len) int64, logits (B, max_len, V)
            The greedy loop is unrolled at export time; it keeps going after </s>, the browser cuts.
encoder.onnx tokens (B, max_len) int64 (w1..wn </s>, <pad> after), lengths (B,) int64 -> coords (B, Z)

"loop" is the default: it stops at </s>, in one session.run per batch (README, Benchmarks).
Besides the value checks of `validate`, the greedy token sequences onnxruntime produces must equal
torch's for every validation coordinate (incl. +-5 sigma), and each anchor must decode to exactly
torch's greedy decode of its mu, which is the anchor's own sentence: anchors are chosen among the
sentences the model reconstructs exactly. A near-tie flipped by float error changes the sentence
the user reads.

weights="int8" stores the embedding as int8 with one scale per row in the encoder, as float16 in
the decoder (where it is also the tied output layer and picks every token), and the encoder's
GRU matrices as float16 (`weight_specs`, export/weights.py); the decoder's GRU stays float32. The
torch model is rounded the same way first (one copy per side), so the gate holds each file to
the rounded model, token for token; how often the rounded decoder decodes 1,000 prior samples
exactly as the float32 one does is reported in the manifest (metrics.quantization).
"""
import logging
import tempfile
from pathlib import Path

import numpy as np
import onnx
import torch

from .. import bundle
from ..atomic import check_name, slug
from ..bundle.schema import Anchor, Axis, Dataset, GraphSpec, Latent, Manifest, PCAInfo, Text
from ..errors import ArgumentError, AtolError, CheckpointError, ShapeError
from ..models.text_vae import BOS, EOS, PAD, UNK
from ..provenance import versions
from ..space import pca as pca_
from ..space.points import validation_coords
from ..tokenizers.bpe import SentenceTokenizer
from .graphs import export
from .loop import LoopGreedy, build_loop
from .poster import text_poster
from .text_checks import anchor_fidelity, check_tokens, pick_exact_anchors, quantization_identity, run_greedy, sentence
from .text_modules import PCAGreedy, PCAInit, PCASentenceEncoder, SentenceModel, Step, encoder_inputs, step_inputs
from .validate import compare, validate
from .weights import round_module, store_rounded

log = logging.getLogger("latent_explorer")
VARIANTS = ("loop", "unrolled")
WEIGHTS = ("float32", "int8")


def weight_specs(model, weights):
    """({name: mode} for the decoder graphs, {name: mode} for the encoder graph) of `weights`.
    "int8": the embedding (V x emb, the bulk of the bundle, in both graphs) as int8 with one scale
    per row where it only moves coordinates (the encoder), float16 where it picks tokens (the
    decoder's embedding and tied output layer: int8 there changed 7.5% of the shipped model's
    prior samples); the encoder's GRU matrices float16, the decoder's GRU float32."""
    if weights == "float32":
        return {}, {}
    pre = "model." if isinstance(model, SentenceModel) else ""
    enc = {f"{pre}embed.weight": "int8"}
    if not pre:
        enc.update({f"encoder.{w}_l0{sfx}": "float16" for w in ("weight_ih", "weight_hh")
                    for sfx in ("", "_reverse") if hasattr(model.encoder, f"{w}_l0{sfx}")})
    return {f"{pre}embed.weight": "float16"}, enc


def part_specs(cfg, atol):
    """init.onnx and step.onnx, the pieces loop.onnx is built from (each validated on its own)."""
    f32 = "float32"
    return {"init": GraphSpec("init.onnx", {"coords": {"dtype": f32, "shape": ["batch", cfg.latent_size]}},
                              {"z": {"dtype": f32, "shape": ["batch", cfg.latent_size]},
                               "hidden": {"dtype": f32, "shape": ["batch", cfg.hidden]}}, atol),
            "step": GraphSpec("step.onnx", {"token": {"dtype": "int64", "shape": ["batch"]},
                                            "hidden": {"dtype": f32, "shape": ["batch", cfg.hidden]},
                                            "z": {"dtype": f32, "shape": ["batch", cfg.latent_size]}},
                              {"logits": {"dtype": f32, "shape": ["batch", cfg.vocab_size]},
                               "hidden_out": {"dtype": f32, "shape": ["batch", cfg.hidden]}}, atol)}


def graph_specs(variant, cfg, atol):
    """The decoder graph of `variant`, then the encoder: coords are (batch, Z) everywhere."""
    f32, k = "float32", cfg.latent_size
    coords = {"coords": {"dtype": f32, "shape": ["batch", k]}}
    encoder = GraphSpec("encoder.onnx", {"tokens": {"dtype": "int64", "shape": ["batch", cfg.max_len]},
                                         "lengths": {"dtype": "int64", "shape": ["batch"]}}, coords, atol)
    if variant == "loop":
        return {"loop": GraphSpec("loop.onnx", coords, {"tokens": {"dtype": "int64", "shape": ["batch", "steps"]}}, 0),
                "encoder": encoder}
    if variant != "unrolled":
        raise ArgumentError(f"variant must be one of {', '.join(VARIANTS)}, got {variant!r}")
    return {"greedy": GraphSpec("greedy.onnx", coords,
                                {"tokens": {"dtype": "int64", "shape": ["batch", cfg.max_len]},
                                 "logits": {"dtype": f32, "shape": ["batch", cfg.max_len, cfg.vocab_size]}}, atol),
            "encoder": encoder}


def strip_metadata(path):
    """Drop the exporter's per-node metadata (torch namespaces, FX nodes, stack traces with local
    paths) from the ONNX file at `path`: a quarter of an unrolled encoder's bytes, never read."""
    import onnx
    model = onnx.load(str(path))

    def visit(graph):
        for node in graph.node:
            del node.metadata_props[:]
            for attr in node.attribute:
                if attr.type == onnx.AttributeProto.GRAPH:
                    visit(attr.g)
    visit(model.graph)
    onnx.save(model, str(path))


def export_text_bundle(model, latents, tokenizer, out, *, sliders=5, texts, encoder_texts=(), name=None,
                       title=None, provenance=None, metrics=None, atol=1e-4, seed=0, variant="loop",
                       weights="float32", dataset=None, n_anchors=30, range_sigma=3.0, max_len=33):
    """Export a sentence model's decoder and encoder, its tokenizer (a SentenceTokenizer) and the
    PCA of `latents` (N, Z), e.g. posterior means of the training sentences, as a text bundle in
    `out`, in the given decoder `variant`, stored small when weights="int8" (see `weight_specs`). The
    model is a TextVAE, or any module that follows the protocol of `SentenceModel` (then
    `max_len` is the number of greedy steps incl. </s>, and the encoder's input length).

    `texts` (N,) is the sentence behind each latent row (or None): anchors are chosen among the
    rows whose sentence the model reconstructs exactly from the row. `encoder_texts` validate
    the encoder. Raises ExportValidationError (TokenMismatchError when greedy tokens differ) and
    leaves any bundle already at `out` untouched."""
    latents = np.asarray(latents, dtype=np.float32)
    if not hasattr(model, "cfg"):  # a model of one's own (the protocol of SentenceModel)
        if latents.ndim != 2:
            raise ArgumentError(f"latents must be a finite (N, Z) array, got shape {latents.shape}")
        model = SentenceModel(model, latents.shape[1], max_len)
    if latents.ndim != 2 or latents.shape[1] != model.cfg.latent_size or not np.isfinite(latents).all():
        raise ArgumentError(f"latents must be a finite (N, {model.cfg.latent_size}) array, got shape {latents.shape}")
    if len(texts) != len(latents):
        raise ArgumentError(f"texts has {len(texts)} rows, latents {len(latents)}")
    if len(tokenizer) != model.cfg.vocab_size:
        raise ArgumentError(f"the tokenizer has {len(tokenizer)} tokens, the model {model.cfg.vocab_size}")
    if weights not in WEIGHTS:
        raise ArgumentError(f"weights must be one of {', '.join(WEIGHTS)}, got {weights!r}")
    name = check_name(name, "name") if name is not None else slug(dataset or "text-model")
    metrics = dict(metrics or {})
    model = model.eval()
    enc_model, enc_stored, dec_stored = model, {}, {}
    dec_spec, enc_spec = weight_specs(model, weights)
    if dec_spec or enc_spec:
        float_model = model
        model, dec_stored = round_module(float_model, dec_spec)
        enc_model, enc_stored = round_module(float_model, enc_spec)
        model.eval(), enc_model.eval()
        metrics["quantization"] = {**quantization_identity(float_model, model, seed=seed),
                                   "decoder": dec_spec, "encoder": enc_spec}
    pca = pca_.fit_pca(latents)
    std = pca_.std(pca)
    anchor_idx, exact_share, tried = pick_exact_anchors(model, latents, texts, tokenizer, n_anchors, seed)
    anchor_coords = pca.transform(latents[anchor_idx].astype(np.float64)).astype(np.float32)
    coords = np.concatenate([validation_coords(std, seed=seed), anchor_coords])
    specs = graph_specs(variant, model.cfg, atol)
    init = PCAInit(model, pca.components_, pca.mean_).eval()
    with torch.no_grad():
        z = init(torch.from_numpy(coords))[0]
        expected = model.reconstruct(z)[0].numpy()                        # torch's greedy tokens (N, max_len)
        own = model.reconstruct(torch.from_numpy(latents[anchor_idx]))[0].numpy()  # each anchor's from its mu
    example = torch.from_numpy(coords[:2])

    def int8(path, stored, spec):
        strip_metadata(path)
        if stored and not store_rounded(path, stored):
            raise ArgumentError(f"{path.name}: none of the weights {', '.join(stored)} found among its initializers")
        spec.weights = weights if stored else "float32"

    with bundle.staged(out) as tmp:
        if variant == "loop":
            last = tmp / "loop.onnx"
            parts = part_specs(model.cfg, atol)
            with tempfile.TemporaryDirectory() as scratch:  # the pieces are validated, then composed
                scratch = Path(scratch)
                export(init, [example], scratch / "init.onnx", parts["init"])
                validate(scratch / "init.onnx", init, parts["init"], {"coords": coords})
                inputs = step_inputs(model, z, seed)
                step = Step(model).eval()
                export(step, [torch.from_numpy(inputs[n][:2]) for n in ("token", "hidden", "z")],
                       scratch / "step.onnx", parts["step"])
                int8(scratch / "step.onnx", dec_stored, specs["loop"])
                validate(scratch / "step.onnx", step, parts["step"], inputs)
                onnx.save(build_loop(scratch / "init.onnx", scratch / "step.onnx", model.cfg.max_len), str(last))
            reference = LoopGreedy(init, model.cfg.max_len).eval()
        else:
            last = tmp / "greedy.onnx"
            reference = PCAGreedy(model, pca.components_, pca.mean_).eval()
            export(reference, [example], last, specs["greedy"])
            int8(last, dec_stored, specs["greedy"])
        role = next(iter(specs))
        try:
            validate(last, reference, specs[role], {"coords": coords})
        except (AtolError, ShapeError):  # say which sentences changed, if that is what happened
            check_tokens(last, expected, run_greedy(last, coords), tokenizer)
            raise
        if variant == "loop":
            specs[role].validation["parts"] = {p.file: p.validation for p in parts.values()}
        decoded = run_greedy(last, coords)
        check_tokens(last, expected, decoded, tokenizer)
        zero = np.zeros((1, model.cfg.latent_size), np.float32)  # the first point the element shows
        mean_ids = run_greedy(last, zero)[0]
        check_tokens(last, own, decoded[-len(anchor_idx):], tokenizer)
        anchor_texts = [texts[i] for i in anchor_idx]
        metrics["anchors"] = {**anchor_fidelity(own, anchor_texts, tokenizer),
                              "candidates": tried, "candidates_exact": exact_share}
        enc = PCASentenceEncoder(enc_model, pca.components_, pca.mean_).eval()
        inputs = encoder_inputs(model, list(encoder_texts)[:512], tokenizer, seed)
        export(enc, [torch.from_numpy(inputs[n][:2]) for n in ("tokens", "lengths")], tmp / "encoder.onnx",
               specs["encoder"])
        int8(tmp / "encoder.onnx", enc_stored, specs["encoder"])
        validate(tmp / "encoder.onnx", enc, specs["encoder"], inputs)
        with torch.no_grad():  # the unrolled encoder equals nn.GRU's, through the PCA
            mu = enc_model.encode(torch.from_numpy(inputs["tokens"]), torch.from_numpy(inputs["lengths"]))[0]
        compare(tmp / "encoder.onnx", specs["encoder"], inputs,
                {"coords": pca.transform(mu.numpy().astype(np.float64)).astype(np.float32)}, "nn_gru")
        (tmp / "tokenizer.json").write_text(tokenizer.to_json(), encoding="utf-8")
        manifest = bundle.write_manifest(tmp, Manifest(
            name=name, title=title or name, kind="text", graphs=specs,
            text=Text(tokenizer="tokenizer.json", specials={"pad": PAD, "unk": UNK, "bos": BOS, "eos": EOS},
                      max_len=model.cfg.max_len, variant=variant),
            latent=Latent(model.cfg.latent_size),
            pca=PCAInfo(mean=pca.mean_.tolist(), components=pca.components_.tolist(), std=std.tolist(),
                        explained_variance_ratio=pca.explained_variance_ratio_.tolist()),
            axes=[Axis(f"PC{i + 1}", -range_sigma * std[i], range_sigma * std[i], component=i)
                  for i in pca_.pick_sliders(pca, sliders)],
            anchors=[Anchor(int(i), None, c.tolist(), text=t) for i, c, t in zip(anchor_idx, anchor_coords, anchor_texts)],
            dataset=Dataset(dataset, [], len(latents)),
            provenance={"versions": versions(), **(provenance or {})},
            metrics=metrics, poster=text_poster(model.cfg.latent_size, sentence(tokenizer, mean_ids))))
    log.info("wrote %s (%s, %s): Z=%d, greedy tokens identical on %d coords", out, variant, weights,
             model.cfg.latent_size, len(coords))
    return manifest


SHOWN_METRICS = ("nll", "reconstruction", "kl", "perplexity", "token_accuracy", "exact_match", "active_units",
                 "nll_iw", "iw_samples", "elbo_vs_lm", "iw_vs_lm", "n_sentences", "n_tokens")


def test_metrics_summary(m):
    """The test metrics a manifest carries (the checkpoint's, without the prior samples' ids)."""
    if not m:
        return {}
    out = {k: m[k] for k in SHOWN_METRICS if k in m}
    if "lm" in m:
        out["lm"] = dict(m["lm"])
    if "prior" in m:
        out["prior"] = {k: v for k, v in m["prior"].items() if k != "ids"}
    return out


def export_text_run(run_dir, out, sliders=5, name=None, variant="loop", weights="float32", atol=1e-4):
    """PCA on the training sentences' latent means of a trained run, then export_text_bundle.
    The test metrics (with the LM baseline's, once `compare_with_lm` has run) come from the
    run's checkpoint."""
    from ..space.encode import sentence_means
    from ..train import checkpoint
    from ..train.text import KIND_LM, LM_DIR, TextTrainConfig, load_corpus, load_text_model
    bundle.check_out(out)
    model, state = load_text_model(run_dir)
    cfg = checkpoint.config(TextTrainConfig, state, "train_config", run_dir)
    tokenizer = SentenceTokenizer.from_json(state["tokenizer"])
    dataset, _, data, digest = load_corpus(cfg, tokenizer)
    if digest != state["corpus_digest"]:
        raise CheckpointError(f"{run_dir}: the corpus changed since training; cannot name the anchors")
    lm_dir = Path(run_dir) / LM_DIR
    lm = checkpoint.load(lm_dir, kind=KIND_LM) if (lm_dir / checkpoint.FILENAME).is_file() else {}
    last = state["history"][-1] if state["history"] else {}
    provenance = {"config": {"model": state["model_config"], "train": state["train_config"]},
                  "seed": cfg.seed, "epochs": state["epoch"] + 1, "train_seconds": round(state["train_seconds"], 1),
                  "final_losses": {k_: last[k_] for k_ in ("loss", "reconstruction", "kl") if k_ in last},
                  "lm": {"epochs": lm["epoch"] + 1, "train_seconds": round(lm["train_seconds"], 1)} if lm else None,
                  "trained_with": state.get("versions")}
    metrics = {"test": test_metrics_summary(state.get("test_metrics"))}
    title = f"{dataset} sentences (GRU VAE, z = {state['model_config']['latent_size']})"
    return export_text_bundle(model, sentence_means(model, data.train), tokenizer, out, sliders=sliders,
                              texts=data.train.texts, encoder_texts=data.test.texts, name=name,
                              title=title, provenance=provenance, metrics=metrics,
                              atol=atol, seed=cfg.seed, variant=variant, weights=weights, dataset=dataset)
