"""PCA on latent codes, then one ONNX graph `coords (B, k) -> pixels (B, H, W)` and its bundle.

`export_image_bundle` is the public API for anyone with a trained decoder; `export_run` feeds
it from one of our training runs.
"""
import logging

import numpy as np
import torch
from torch import nn

from . import bundle, checkpoint
from .atomic import check_name, slug
from .data import load_images
from .errors import ArgumentError, ExportValidationError
from .latents import PCAInverse, fit_pca, pca_manifest, pick_anchors, validation_coords
from .onnx_export import GraphSpec, export, validate
from .provenance import versions

log = logging.getLogger("latent_explorer")


class PCADecoder(nn.Module):
    """PCA inverse plus decoder in one graph, so the browser feeds slider values directly."""

    def __init__(self, decoder, components, mean, image_shape):
        super().__init__()
        self.pca = PCAInverse(components, mean)
        self.decoder = decoder
        self.image_shape = tuple(image_shape)

    def forward(self, coords):                                        # (B, k)
        return self.decoder(self.pca(coords)).reshape(-1, *self.image_shape)  # (B, H, W)


def export_image_bundle(decoder, latents, out, *, k=5, labels=None, label_names=None, name=None,
                        dataset=None, title=None, provenance=None, n_anchors=30, range_sigma=3.0,
                        atol=1e-5, seed=0):
    """Export `decoder` (a torch module mapping z (B, Z) to images with values in [0, 1]) and the PCA
    of `latents` (N, Z) — e.g. posterior means of the training set — as a bundle in `out`.

    `labels` (N,) and `label_names` label the anchors. Raises ExportValidationError (and leaves
    any bundle already at `out` untouched) if onnxruntime disagrees with torch by more than atol."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim != 2 or not np.isfinite(latents).all():
        raise ArgumentError(f"latents must be a finite (N, Z) array, got shape {latents.shape}")
    name = check_name(name, "name") if name is not None else slug(dataset or "model")
    decoder = decoder.eval()
    pca = fit_pca(latents, k)
    std = np.sqrt(pca.explained_variance_)
    with torch.no_grad():
        probe = decoder(torch.from_numpy(latents[:2]))
    image_shape = tuple(probe.shape[-2:])
    module = PCADecoder(decoder, pca.components_, pca.mean_, image_shape).eval()
    spec = GraphSpec(file="decoder.onnx",
                     inputs={"coords": {"dtype": "float32", "shape": ["batch", k]}},
                     outputs={"pixels": {"dtype": "float32", "shape": ["batch", *image_shape]}},
                     atol=atol)
    coords = validation_coords(std, seed=seed)
    anchor_idx = pick_anchors(None if labels is None else np.asarray(labels), n_anchors, seed, len(latents))
    anchor_coords = pca.transform(latents[anchor_idx].astype(np.float64)).astype(np.float32)
    with bundle.staged(out) as tmp:
        path = tmp / spec.file
        export(module, [torch.from_numpy(coords[:2])], path, spec)
        validate(path, module, spec, {"coords": np.concatenate([coords, anchor_coords])})
        with torch.no_grad():
            pixels = module(torch.from_numpy(coords)).numpy()
        if pixels.min() < 0 or pixels.max() > 1:
            raise ExportValidationError(path, [f"pixels range [{pixels.min():.3g}, {pixels.max():.3g}] is "
                                               "outside [0, 1]; end the decoder with a sigmoid"])
        manifest = bundle.write_manifest(tmp, {
            "name": name,
            "title": title or name,
            "kind": "image",
            "graphs": {"decoder": spec.to_json()},
            "image": {"height": image_shape[0], "width": image_shape[1], "range": [0.0, 1.0]},
            **pca_manifest(pca, latents.shape[1], range_sigma),
            "dataset": {"name": dataset, "label_names": list(label_names or []), "n_latents": len(latents)},
            "anchors": [{"index": int(i), "label": None if labels is None else int(labels[i]),
                         "coords": c.tolist()} for i, c in zip(anchor_idx, anchor_coords)],
            "provenance": {"versions": versions(), **(provenance or {})},
        })
    log.info("wrote %s: k=%d, explained variance %.1f%%", out, k, 100 * pca.explained_variance_ratio_.sum())
    return manifest


@torch.no_grad()
def encode_means(model, x, batch_size=512):
    """Posterior means μ(x) for all images, (N, Z)."""
    return torch.cat([model.encode(torch.from_numpy(x[i:i + batch_size]))[0]
                      for i in range(0, len(x), batch_size)]).numpy()


def export_run(run_dir, out, k=5, name=None, atol=1e-5):
    """PCA on the training set's latent means of a trained run, then export_image_bundle."""
    from .train import TrainConfig, load_model
    bundle.check_out(out)
    model, state = load_model(run_dir)
    cfg = checkpoint.config(TrainConfig, state, "train_config", run_dir)
    data = load_images(cfg.dataset, cfg.data, seed=cfg.seed)
    last = state["history"][-1] if state["history"] else {}
    provenance = {"config": {"model": state["model_config"], "train": state["train_config"]},
                  "seed": cfg.seed, "epochs": state["epoch"] + 1, "train_seconds": round(state["train_seconds"], 1),
                  "final_losses": {k_: last[k_] for k_ in ("loss", "reconstruction", "kl") if k_ in last},
                  "test_metrics": state.get("test_metrics"), "trained_with": state.get("versions")}
    return export_image_bundle(model.image_decoder(), encode_means(model, data.x_train), out, k=k,
                               labels=data.y_train, label_names=data.label_names, dataset=data.name,
                               name=name, title=f"{data.name} ({state['model_config']['arch']} VAE)",
                               provenance=provenance, atol=atol, seed=cfg.seed)
