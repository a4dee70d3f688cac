"""An image bundle: `decoder.onnx` (coords (B, Z) -> pixels (B, H, W) grey or (B, H, W, 3) RGB)
and, when an encoder is given, `encoder.onnx` (pixels -> coords (B, Z)), both with the PCA inside.

`export_image_bundle` is the public API for anyone with a trained decoder (and encoder);
`export_run` feeds it from one of our training runs and measures how faithful the points are.
"""
import logging

import numpy as np
import torch
from torch import nn

from .. import bundle
from ..atomic import check_name, slug
from ..bundle.schema import Anchor, Axis, Dataset, GraphSpec, Image, Latent, Manifest, PCAInfo
from ..data import load_images
from ..errors import ArgumentError, ExportValidationError
from ..provenance import versions
from ..space import pca as pca_
from ..space.points import pick_anchors, validation_coords
from .graphs import export, session
from .poster import image_poster
from .validate import compare, validate
from .weights import INT8_MIN_INPUTS, MIN_SIZE, MODES, compress, round_image_module, store_rounded

log = logging.getLogger("latent_explorer")
ENCODER_ATOL = {"float16": 5e-3, "int8": 0.1}  # compressed encoders: max coordinate error, in units of the largest std
METHOD = {"float16": f"float16 for weights of >= {MIN_SIZE} values",
          "int8": f"int8 with one scale per row, codes by GPTQ (damping 1e-3, on calibration_coords: other seeds' "
                  f"validation coords and training points) for Linear layers with >= {INT8_MIN_INPUTS} inputs, "
                  f"float16 for the other weights of >= {MIN_SIZE} values"}
PREPROCESS = {"background": 0.0, "ink": 1.0, "resize": "area"}  # training images: light ink on a dark ground


class PCADecoder(nn.Module):
    """coords (B, Z) -> PCA inverse -> decoder -> pixels (B, H, W)."""

    def __init__(self, decoder, components, mean, image_shape):
        super().__init__()
        self.pca = pca_.PCAInverse(components, mean)
        self.decoder = decoder
        self.image_shape = tuple(image_shape)

    def forward(self, coords):                                                  # (B, Z)
        return self.decoder(self.pca(coords)).reshape(-1, *self.image_shape)   # (B, H, W)


class PCAEncoder(nn.Module):
    """pixels (B, H, W) -> encoder (x -> mu) -> PCA -> coords (B, Z)."""

    def __init__(self, encoder, components, mean):
        super().__init__()
        self.encoder = encoder
        self.pca = pca_.PCAForward(components, mean)

    def forward(self, pixels):                       # (B, H, W)
        return self.pca(self.encoder(pixels))        # (B, Z)


def _encoder_inputs(images, decoded, seed):
    """Inputs for validating an encoder: held-out images if any, decodes (realistic and always at
    hand) and uniform noise (what a scribble can be)."""
    rng = np.random.default_rng(seed)
    parts = [decoded[:256], rng.random((32, *decoded.shape[1:]), dtype=np.float32)]
    if images is not None:
        parts.insert(0, np.asarray(images, dtype=np.float32)[:512])
    return np.concatenate(parts)


def calibration_coords(std, train_coords, seed, exclude=(), n=4096):
    """The coordinates GPTQ rounds an int8 decoder on (`round_image_module`): n of
    validation_coords(std, 1024, seed + 1000 + i) (random +-5 sigma corners and Gaussian draws up
    to 3 sigma) without their origin and +-5 sigma axis points, which every seed shares, plus n
    training points' coordinates (all of them if fewer) chosen with `seed`; any row equal to one in
    `exclude` is left out. The export passes its gate's points (validation_coords(std, seed=seed)
    and the anchors) as `exclude`, so the gate checks the rounding on points it was not fitted to."""
    shared = 2 * len(std) + 1
    parts = [validation_coords(std, 1024 + shared, seed=seed + 1000 + i)[shared:] for i in range(-(-n // 1024))]
    rng = np.random.default_rng(seed)
    take = rng.choice(len(train_coords), min(n, len(train_coords)), replace=False)
    calib = np.concatenate([*parts, np.asarray(train_coords, np.float32)[np.sort(take)]]).astype(np.float32)
    skip = {r.tobytes() for r in np.asarray(exclude, np.float32).reshape(-1, calib.shape[1])}
    return calib[[r.tobytes() not in skip for r in calib]]


def export_image_bundle(decoder, latents, out, *, encoder=None, images=None, sliders=5, labels=None,
                        label_names=None, name=None, dataset=None, title=None, provenance=None, metrics=None,
                        preprocess=None, n_anchors=30, range_sigma=3.0, atol=1e-5, seed=0, weights="float32"):
    """Export `decoder` (a torch module mapping z (B, Z) to images (B, H, W), or (B, H, W, 3) for
    colour, with values in [0, 1])
    and the PCA of `latents` (N, Z), e.g. posterior means of the training set, as a bundle in `out`.

    `encoder` (optional) maps images (B, H, W[, 3]) to mu (B, Z); with it the bundle gets encoder.onnx
    and the element a drawing pad. `images` (optional, held-out images) are used to validate it.
    `labels` (N,) and `label_names` label the anchors. `weights` stores the decoder's big weights
    as float32 (default), float16 or int8 (`round_image_module` in export/weights.py: int8 with
    one scale per row, codes picked by GPTQ on `calibration_coords`, for Linear layers with >= 64
    inputs, float16 for the other weights of >= 1,024 values): the torch decoder is
    rounded first, the file stores exactly its weights, and the gate holds the file to that
    rounded decoder at `atol`; the difference to float32 is recorded in metrics["quantization"].
    A compressed encoder is stored by `compress` and checked against the float32 encoder with
    ENCODER_ATOL. Raises ExportValidationError (and leaves any bundle already at `out`
    untouched) if onnxruntime disagrees with torch by more than the atol."""
    latents = np.asarray(latents, dtype=np.float32)
    if latents.ndim != 2 or not np.isfinite(latents).all():
        raise ArgumentError(f"latents must be a finite (N, Z) array, got shape {latents.shape}")
    name = check_name(name, "name") if name is not None else slug(dataset or "model")
    decoder = decoder.eval()
    pca = pca_.fit_pca(latents)
    std = pca_.std(pca)
    with torch.no_grad():
        probe = decoder(torch.from_numpy(latents[:2]))
    image_shape = tuple(probe.shape[1:])
    if not (len(image_shape) == 2 or (len(image_shape) == 3 and image_shape[2] == 3)):
        raise ArgumentError(f"the decoder must give images (B, H, W) or (B, H, W, 3), got {tuple(probe.shape)}")
    z = latents.shape[1]
    module = PCADecoder(decoder, pca.components_, pca.mean_, image_shape).eval()
    if weights not in MODES:
        raise ArgumentError(f"--weights {weights}: choose one of {', '.join(MODES)}")
    spec = GraphSpec("decoder.onnx", {"coords": {"dtype": "float32", "shape": ["batch", z]}},
                     {"pixels": {"dtype": "float32", "shape": ["batch", *image_shape]}}, atol, weights=weights)
    coords = validation_coords(std, seed=seed)
    anchor_idx = pick_anchors(None if labels is None else np.asarray(labels), n_anchors, seed, len(latents))
    anchor_coords = pca.transform(latents[anchor_idx].astype(np.float64)).astype(np.float32)
    graphs = {"decoder": spec}
    metrics = dict(metrics or {})
    with bundle.staged(out) as tmp:
        path = tmp / spec.file
        export(module, [torch.from_numpy(coords[:2])], path, spec)
        float32 = {k: session(path).run(["pixels"], {"coords": c})[0] for k, c in (("val", coords), ("anchors", anchor_coords))}
        if weights != "float32":  # the file is then exactly this rounded decoder
            calib = None
            if weights == "int8":
                calib = (torch.from_numpy(calibration_coords(std, pca.transform(latents.astype(np.float64)), seed,
                                                            exclude=np.concatenate([coords, anchor_coords]))),)
            module, stored = round_image_module(module, weights, calib)
            export(module, [torch.from_numpy(coords[:2])], path, spec)
            missing = sorted(set(stored) - set(store_rounded(path, stored)))
            if missing:
                raise ExportValidationError(path, [f"--weights {weights}: {', '.join(missing)} not found among the "
                                                   "graph's initializers, so they would stay float32"])
        validate(path, module, spec, {"coords": np.concatenate([coords, anchor_coords])})
        with torch.no_grad():  # an anchor decodes to the model's own reconstruction: decoder(mu), no PCA
            recon = module.decoder(torch.from_numpy(latents[anchor_idx])).reshape(-1, *image_shape).numpy()
        compare(path, spec, {"coords": anchor_coords}, {"pixels": recon}, "anchors")
        pixels = session(path).run(["pixels"], {"coords": coords})[0]
        spec.validation["vs_float32_graph"] = float(np.abs(pixels - float32["val"]).max())
        if weights != "float32":
            anchors_diff = np.abs(session(path).run(["pixels"], {"coords": anchor_coords})[0] - float32["anchors"]).max()
            metrics["quantization"] = {
                "method": METHOD[weights],
                "weights": {name: entry[0] for name, entry in stored.items()},
                "max_pixel_diff_vs_float32": spec.validation["vs_float32_graph"], "n": len(coords),
                "anchors_max_pixel_diff_vs_float32": float(anchors_diff), "n_anchors": len(anchor_coords)}
        if pixels.min() < 0 or pixels.max() > 1:
            raise ExportValidationError(path, [f"pixels range [{pixels.min():.3g}, {pixels.max():.3g}] is "
                                               "outside [0, 1]; end the decoder with a sigmoid"])
        if encoder is not None:
            enc = PCAEncoder(encoder.eval(), pca.components_, pca.mean_).eval()
            graphs["encoder"] = espec = GraphSpec(
                "encoder.onnx", {"pixels": {"dtype": "float32", "shape": ["batch", *image_shape]}},
                {"coords": {"dtype": "float32", "shape": ["batch", z]}}, atol, weights=weights)
            inputs = _encoder_inputs(images, pixels, seed)
            export(enc, [torch.from_numpy(inputs[:2])], tmp / espec.file, espec)
            if weights != "float32":  # the point moves a little; what the user sees is its decode
                espec.atol = ENCODER_ATOL[weights] * float(std.max())
            compress(tmp / espec.file, weights)
            validate(tmp / espec.file, enc, espec, {"pixels": inputs})
        manifest = bundle.write_manifest(tmp, Manifest(
            name=name, title=title or name, kind="image", graphs=graphs,
            image=Image(height=image_shape[0], width=image_shape[1], channels=3 if len(image_shape) == 3 else 1,
                        preprocess=dict(preprocess or PREPROCESS)),
            latent=Latent(z),
            pca=PCAInfo(mean=pca.mean_.tolist(), components=pca.components_.tolist(), std=std.tolist(),
                        explained_variance_ratio=pca.explained_variance_ratio_.tolist()),
            axes=[Axis(f"PC{i + 1}", -range_sigma * std[i], range_sigma * std[i], component=i)
                  for i in pca_.pick_sliders(pca, sliders)],
            anchors=[Anchor(int(i), None if labels is None else int(labels[i]), c.tolist())
                     for i, c in zip(anchor_idx, anchor_coords)],
            dataset=Dataset(dataset, list(label_names or []), len(latents)),
            provenance={"versions": versions(), **(provenance or {})},
            metrics=metrics, poster=image_poster(path, z)))
    log.info("wrote %s: Z=%d, %d sliders, encoder: %s", out, z, len(manifest.axes), "yes" if encoder else "no")
    return manifest


def faithfulness(model, x, sliders, pca):
    """How far decode(encode(x)) is from x (pixel MSE, torch, mean over images), for the full
    point and for the old projection onto the first `sliders` components (the rest at the mean)."""
    with torch.no_grad():
        mu = model.encode(torch.from_numpy(x))[0].numpy().astype(np.float64)
        coords = pca.transform(mu)
        cut = coords.copy()
        cut[:, sliders:] = 0
        out = {}
        for key, c in (("mse_full", coords), (f"mse_first_{sliders}_components", cut)):
            z = torch.from_numpy(pca.inverse_transform(c).astype(np.float32))
            out[key] = float(((model.decode(z).numpy() - x) ** 2).mean())
    return {"n_images": len(x), **out}


def export_run(run_dir, out, sliders=5, name=None, atol=1e-5, weights="float32"):
    """PCA on the training set's latent means of a trained run, then export_image_bundle."""
    from ..space.encode import image_means
    from ..train.checkpoint import config
    from ..train.image import TrainConfig, load_model
    bundle.check_out(out)
    model, state = load_model(run_dir)
    cfg = config(TrainConfig, state, "train_config", run_dir)
    data = load_images(cfg.dataset, cfg.data, seed=cfg.seed)
    last = state["history"][-1] if state["history"] else {}
    provenance = {"config": {"model": state["model_config"], "train": state["train_config"]},
                  "seed": cfg.seed, "epochs": state["epoch"] + 1, "train_seconds": round(state["train_seconds"], 1),
                  "final_losses": {k: last[k] for k in ("loss", "reconstruction", "kl") if k in last},
                  "test_metrics": state.get("test_metrics"), "trained_with": state.get("versions")}
    latents = image_means(model, data.x_train)
    test = data.x_test[:1000]
    metrics = {"faithfulness": faithfulness(model, test, sliders, pca_.fit_pca(latents))}
    return export_image_bundle(model.image_decoder(), latents, out, encoder=model.image_encoder(), images=test,
                               sliders=sliders, labels=data.y_train, label_names=data.label_names,
                               dataset=data.name, name=name,
                               title=f"{data.name} ({state['model_config']['arch']} VAE, z = {latents.shape[1]})",
                               provenance=provenance, metrics=metrics, atol=atol, seed=cfg.seed, weights=weights)
