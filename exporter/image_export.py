"""PCA on latent codes, then one ONNX graph `coords (B, k) -> pixels (B, H, W)` and its bundle.

`export_image_bundle` is the public API for anyone with a trained decoder; `export_run` feeds
it from one of our training runs.
"""
import logging

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from . import bundle
from .data import load_images
from .errors import ExportValidationError
from .onnx_export import GraphSpec, export, validate
from .provenance import versions

log = logging.getLogger("latent_explorer")


class PCADecoder(nn.Module):
    """PCA inverse plus decoder in one graph, so the browser feeds slider values directly."""

    def __init__(self, decoder, components, mean, image_shape):
        super().__init__()
        self.decoder = decoder
        self.image_shape = tuple(image_shape)
        self.register_buffer("components", torch.as_tensor(components, dtype=torch.float32))  # (k, Z)
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))              # (Z,)

    def forward(self, coords):                       # (B, k)
        z = coords @ self.components + self.mean     # (B, Z)
        return self.decoder(z).reshape(-1, *self.image_shape)  # (B, H, W)


def fit_pca(latents, k):
    assert 1 <= k <= latents.shape[1], f"k={k} must be between 1 and the latent size {latents.shape[1]}"
    return PCA(n_components=k, svd_solver="full").fit(latents.astype(np.float64))


def validation_coords(std, n=256, seed=0, extreme=5.0):
    """n coordinate vectors: the origin, ±extreme·σ along each axis and on random corners, then
    Gaussian draws up to 3σ. Extremes matter: that is where float error and saturation show."""
    rng = np.random.default_rng(seed)
    k = len(std)
    rows = [np.zeros(k)]
    for i in range(k):
        for s in (-extreme, extreme):
            e = np.zeros(k)
            e[i] = s
            rows.append(e)
    rows += list(rng.choice([-extreme, extreme], size=(8, k)))
    rest = n - len(rows)
    rows += list(rng.standard_normal((rest, k)) * rng.uniform(0.5, 3.0, (rest, 1)))
    return (np.array(rows[:n]) * np.asarray(std)).astype(np.float32)


def pick_anchors(labels, n, seed=0, n_total=None):
    """Indices of n real examples, spread across all classes (round-robin over shuffled classes)."""
    rng = np.random.default_rng(seed)
    if labels is None:
        return sorted(rng.choice(n_total, size=min(n, n_total), replace=False).tolist())
    by_class = [rng.permutation(np.flatnonzero(labels == c)).tolist() for c in np.unique(labels)]
    picked = []
    while len(picked) < n and any(by_class):
        for members in by_class:
            if members and len(picked) < n:
                picked.append(members.pop(0))
    return picked


def export_image_bundle(decoder, latents, out, *, k=5, labels=None, label_names=None, name=None,
                        dataset=None, title=None, provenance=None, n_anchors=30, range_sigma=3.0,
                        atol=1e-5, seed=0):
    """Export `decoder` (a torch module mapping z (B, Z) to images with values in [0, 1]) and the PCA
    of `latents` (N, Z) — e.g. posterior means of the training set — as a bundle in `out`.

    `labels` (N,) and `label_names` label the anchors. Raises ExportValidationError (and leaves
    any bundle already at `out` untouched) if onnxruntime disagrees with torch by more than atol."""
    latents = np.asarray(latents, dtype=np.float32)
    assert latents.ndim == 2, f"latents must be (N, Z), got shape {latents.shape}"
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
    name = name or (dataset or "model")
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
            "latent": {"size": int(latents.shape[1]), "k": k},
            "pca": {"std": std.tolist(), "explained_variance_ratio": pca.explained_variance_ratio_.tolist()},
            "axes": [{"name": f"PC{i + 1}", "index": i, "min": -range_sigma * s, "max": range_sigma * s}
                     for i, s in enumerate(std.tolist())],
            "slider_range_sigma": range_sigma,
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
    model, state = load_model(run_dir)
    cfg = TrainConfig(**state["train_config"])
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
