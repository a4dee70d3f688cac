"""`latent-explorer directions`: concept directions, the latent map and the typicality reference,
added to an existing image bundle in one atomic step.

Everything runs through the bundle's own graphs (`bundle.runtime`): `encoder.onnx` gives the
coordinates of the training data, `decoder.onnx` decodes moved points. So no torch is needed, and
any image bundle with an encoder works, given its training data. Each run writes the bundle's
whole direction set (the component sliders stay; direction axes of an earlier run are replaced).
"""
import math
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from .. import bundle
from ..bundle.png import encode_png
from ..bundle.runtime import Runtime
from ..bundle.schema import Axis, Direction, Directions, MapInfo, Typicality
from ..data import load_images
from ..errors import ArgumentError, BundleError
from ..space import directions as dirs
from ..space import points
from ..space.attributes import ATTRIBUTES, measure

BUILT_IN_DATA = ("digits", "fashion-mnist", "shapes")
MAP_FILE, SPRITE_FILE = "map.f16", "map.png"
RANGE_SIGMA = 3.0  # direction sliders span ±3 spreads, as component sliders do
# Fitted directions live in the components the decoder uses: those whose ±2σ move changes the
# decoded pixels by at least this share of what the most-used component changes. An unused
# component can predict an attribute well (the encoder leaks it there, with a small std) while
# the decoder ignores it, so a regression direction leaning on it changes nothing when decoded.
# Its std is no guide: the shipped FashionMNIST model's components 14 and 15 have std 0.27 and
# 0.20 ("active units" by the usual variance > 0.01) but change pixels 100x less than the first.
USED_SHARE = 0.05


def class_index(token, label_names, what):
    """A class given as an index or a label name -> its index."""
    token = str(token).strip()
    if token in label_names:
        return label_names.index(token)
    if token.isdigit() and (not label_names or int(token) < len(label_names)):
        return int(token)
    raise ArgumentError(f"{what}: unknown class {token!r} (classes: {', '.join(label_names) or 'indices'})")


def training_data(m, folder, data=None, dataset=None):
    """The bundle's training set: `data` (an ImageData or a path), `dataset` (a built-in name) or the
    dataset the manifest names; its size and image shape must match the bundle."""
    if data is not None and not isinstance(data, (str, Path)):
        d = data
    else:
        name = dataset or m.dataset.name
        if data is None and name not in BUILT_IN_DATA:
            raise ArgumentError(f"{folder}: was trained on {name!r}; give its training data with --data DIR|FILE.npz")
        d = load_images(name, data, seed=int(m.provenance.get("seed", 0)))
    shape = (m.image.height, m.image.width) + ((3,) if m.image.channels == 3 else ())
    if d.shape != shape or len(d.x_train) != m.dataset.n_latents:
        raise ArgumentError(f"{folder}: was fitted on {m.dataset.n_latents} images of shape {shape}, but the data "
                            f"({d.name}) has {len(d.x_train)} of shape {d.shape}; give its own training data")
    return d


def check_codes(codes, m, folder):
    """The encoded training set must be the one the PCA was fitted on: mean 0, std pca.std (within
    what the encoder graph's own tolerance allows: compressed weights move points a little)."""
    std, top = np.asarray(m.pca.std), max(m.pca.std)
    tol = max(1e-3 * top, 2 * m.graphs["encoder"].atol)
    mean_off = np.abs(codes.mean(0)).max()
    std_off = np.abs(codes.std(0) - std) - 0.01 * std
    if mean_off > tol or std_off.max() > tol:
        raise ArgumentError(f"{folder}: the given data does not encode to the bundle's training codes (mean off "
                            f"by {mean_off:.3g}, std by {np.abs(codes.std(0) - std).max():.3g}); is it the data "
                            "the bundle was exported from?")


def _plan(m, attributes, attribute_values, class_means, probes, edits, vectors, other, orthogonalize, conditions):
    """Every direction's name, checked before any work: unique, not a component slider's, and the
    names of --orthogonalize and --condition known, each direction changed at most once."""
    names = (list(attributes) + list(attribute_values) + [n for n, _, _ in class_means] + [n for n, _, _ in probes]
             + list(edits) + list(vectors) + ([f"{d.name}@{other.manifest.name}" for d in other.manifest.directions.items]
                                              if other else []))
    taken = {a.name for a in m.axes if a.direction is None}
    for n in names:
        if not isinstance(n, str) or not n.strip() or len(n) > 64 or any(c in n for c in ",:="):
            raise ArgumentError(f"direction name {n!r}: use 1-64 characters, without ',', ':' or '='")
        if names.count(n) > 1 or n in taken:
            raise ArgumentError(f"direction name {n!r} is given twice (or is a component slider's name)")
    changed = []
    for group in orthogonalize:
        if len(group) < 2:
            raise ArgumentError(f"--orthogonalize {','.join(group)}: needs two or more direction names")
        changed += group[1:]
    in_groups = {n for g in orthogonalize for n in g}
    for primal, conds in conditions.items():
        if not conds:
            raise ArgumentError(f"--condition {primal}: needs the names of the conditions")
        changed += [primal, primal] if primal in in_groups else [primal]
    mentioned = [n for g in orthogonalize for n in g] + [n for p, c in conditions.items() for n in [p, *c]]
    for n in mentioned:
        if n not in names:
            raise ArgumentError(f"--orthogonalize/--condition: unknown direction {n!r} (directions: "
                                f"{', '.join(names) or 'none'})")
    twice = sorted({n for n in changed if changed.count(n) > 1})
    if twice:
        raise ArgumentError(f"--orthogonalize/--condition: {twice[0]!r} would be changed twice; change it in one place")
    return names


def _transfer(rt, other, d, codes, seed):
    """A's named directions carried to this bundle through a ridge map of A's codes to ours, with
    the map's R² on held-out images (the data's test split)."""
    if other.image_shape != rt.image_shape:
        raise ArgumentError(f"--from {other.folder}: takes images of shape {other.image_shape}, this bundle "
                            f"{rt.image_shape}")
    codes_a = other.encode(d.x_train)
    mapping = dirs.ridge_map(codes_a, codes)
    test = d.x_test[np.random.default_rng(seed).permutation(len(d.x_test))[:5000]]
    a_test, b_test = other.encode(test), rt.encode(test)
    from sklearn.metrics import r2_score
    pred = mapping.predict(a_test)
    r2 = float(r2_score(b_test, pred, multioutput="variance_weighted"))
    per_dim = r2_score(b_test, pred, multioutput="raw_values").tolist()
    axes = {a.name: a for a in other.manifest.axes}
    out = {}
    for item in other.manifest.directions.items:
        out[f"{item.name}@{other.manifest.name}"] = (dirs.transfer(mapping, np.array(axes[item.name].direction)), {
            "kind": "transfer", "from": other.manifest.name, "direction": item.name,
            "map_r2_heldout": r2, "map_r2_heldout_per_coord": per_dim,
            "n_fit": len(codes_a), "n_heldout": len(test)})
    return out


def _orthogonalize(raw, orthogonalize, conditions):
    """Final vectors and, per name, what it was made orthogonal to."""
    final, against = dict(raw), {n: [] for n in raw}
    for group in orthogonalize:
        for name, v in zip(group, dirs.gram_schmidt([raw[n] for n in group], group)):
            final[name], against[name] = v, group[:group.index(name)]
    for primal, conds in conditions.items():
        final[primal] = dirs.conditional(raw[primal], [final[c] for c in conds], primal, conds)
        against[primal] = list(conds)
    return final, against


def add_directions(folder, *, data=None, dataset=None, classes=None, attributes=(), attribute_values=None,
                   class_means=(), probes=(), probe_model="logistic", edits=None, edit_points=None, vectors=None,
                   transfer_from=None, orthogonalize=(), conditions=None, active_only=True, examples=256, sigma=2.0,
                   map_points=2000, seed=0):
    """Fit named directions on the bundle in `folder` and write them, with their effect matrices,
    a latent map and the typicality quantiles, into it atomically; returns the new Manifest.

    attributes: built-in pixel attributes (space/attributes.py); attribute_values: {name: (N,)
    values, one per training example}; class_means, probes: [(name, class, other class or None
    for the rest)]; edits: {name: (before images, after images)}, encoded here; edit_points: {name:
    (before coords, after coords)}; vectors: {name: (Z,) in coords}; transfer_from: another
    bundle whose named directions are carried over; orthogonalize: lists of names (Gram-Schmidt in
    that order); conditions: {name: [names]} (InterfaceGAN's conditional form). Fitted and
    transferred directions use only the components the decoder uses (USED_SHARE) unless
    active_only is False. Raises ArgumentError/BundleError, leaving the bundle byte-identical."""
    started = time.perf_counter()
    folder = Path(folder)
    rt = Runtime(folder)
    m = rt.manifest
    if not rt.has_encoder:
        raise BundleError(f"{folder}: has no encoder.onnx; directions need the codes of the training data")
    if not (math.isfinite(sigma) and sigma > 0) or examples < 1 or map_points < 0:
        raise ArgumentError("sigma must be a positive number, examples at least 1, map_points 0 or more")
    other = Runtime(transfer_from) if transfer_from is not None else None
    if other is not None and other.manifest.directions is None:
        raise BundleError(f"{transfer_from}: has no named directions to transfer (add some with: "
                          f"latent-explorer directions {transfer_from} ...)")
    # Everything that can be checked without the data is checked first.
    label_names, n = m.dataset.label_names, m.dataset.n_latents
    class_means, probes = _classes(class_means, label_names, "--class-mean"), _classes(probes, label_names, "--probe")
    edits, edit_points = dict(edits or {}), dict(edit_points or {})
    orthogonalize = [list(g) for g in orthogonalize]
    conditions = {k: list(v) for k, v in (conditions or {}).items()}
    names = _plan(m, attributes, attribute_values or {}, class_means, probes, [*edits, *edit_points], vectors or {},
                  other, orthogonalize, conditions)
    measure(np.zeros((1, 2, 2), np.float32), attributes)  # unknown attribute names fail here
    attribute_values = {k: dirs.check_values(v, n, f"attribute {k}") for k, v in (attribute_values or {}).items()}
    vectors = {k: dirs.unit(v, f"vector {k}") for k, v in (vectors or {}).items()}
    for k, v in vectors.items():
        if len(v) != m.latent.size:
            raise ArgumentError(f"vector {k}: has {len(v)} numbers; this bundle's points have {m.latent.size}")

    d = training_data(m, folder, data, dataset)
    t = time.perf_counter()
    codes = rt.encode(d.x_train).astype(np.float64)
    encode_seconds = time.perf_counter() - t
    check_codes(codes, m, folder)
    use = dirs.component_use(rt.decode, codes[np.random.default_rng(seed).choice(n, min(n, 256), replace=False)],
                             m.pca.std)
    active = use >= USED_SHARE * use.max() if active_only else np.ones(m.latent.size, bool)
    rows, fit_classes = np.arange(n), None
    if classes:
        if d.y_train is None:
            raise ArgumentError("--classes: the training data has no labels")
        fit_classes = [class_index(c, label_names, "--classes") for c in classes]
        rows = np.flatnonzero(np.isin(d.y_train, fit_classes))
    if (class_means or probes) and d.y_train is None:
        raise ArgumentError("--class-mean/--probe: the training data has no labels")
    c, real = codes[rows], measure(d.x_train[rows])
    c_fit = c * active  # unused components zeroed: no fitted direction has weight on them
    labels = None if d.y_train is None else d.y_train[rows]

    raw, sources = {}, {}
    for name in attributes:
        raw[name], r2 = dirs.attribute(c_fit, real[name], what=f"attribute {name}")
        sources[name] = {"kind": "attribute", "attribute": name, "definition": ATTRIBUTES[name], "r2": r2}
    for name, values in attribute_values.items():
        raw[name], r2 = dirs.attribute(c_fit, values[rows], what=f"attribute {name}")
        sources[name] = {"kind": "attribute-file", "r2": r2}
    for name, a, b in class_means:
        raw[name] = dirs.class_mean(c_fit, labels, a, b)
        sources[name] = {"kind": "class-mean", "class": a, "versus": b}
    for name, a, b in probes:
        raw[name], accuracy = dirs.probe(c_fit, labels, a, b, probe_model, seed)
        sources[name] = {"kind": "probe", "model": probe_model, "class": a, "versus": b, "accuracy": accuracy}
    for name, (before, after) in [*edits.items(), *edit_points.items()]:
        diff = dirs.edit(before, after) if name in edit_points else dirs.edit(rt.encode(before), rt.encode(after))
        raw[name], sources[name] = dirs.unit(diff, f"edit {name}"), {"kind": "edit", "norm": float(np.linalg.norm(diff))}
    for name, v in vectors.items():
        raw[name], sources[name] = v, {"kind": "vector"}
    if other is not None:
        for name, (v, src) in _transfer(rt, other, d, codes, seed).items():
            raw[name], sources[name] = dirs.unit(v * active, f"transferred {name}"), src
    final, against = _orthogonalize(raw, orthogonalize, conditions)

    record, axes = None, [a for a in m.axes if a.direction is None]
    if names:
        record = _measure(rt, c, real, names, raw, final, against, sources, examples, sigma, seed)
        axes += [Axis(i.name, -RANGE_SIGMA * i.spread, RANGE_SIGMA * i.spread, direction=final[i.name].tolist())
                 for i in record.items]
        record.fit = {"dataset": d.name, "classes": fit_classes, "n_examples": len(rows),
                      "components": np.flatnonzero(active).tolist(), "component_use": use.tolist(),
                      "encode_seconds": round(encode_seconds, 2), "seconds": round(time.perf_counter() - started, 2)}
    return _write(folder, m, d, codes, axes, record, map_points, seed)


def _classes(pairs, label_names, flag):
    """[(name, class, other class or None)] with classes as indices."""
    return [(name, class_index(a, label_names, flag), None if b is None else class_index(b, label_names, flag))
            for name, a, b in pairs]


def _measure(rt, c, real, names, raw, final, against, sources, examples, sigma, seed):
    """The effect matrices: `examples` of the fitting codes `c` moved ±sigma spreads along each
    direction (final, and raw if it was orthogonalized), decoded and measured, in units of each
    attribute's std over the real fitting images (`real`); attributes constant there are left out."""
    columns = [k for k in ATTRIBUTES if np.std(real[k]) > 0]
    std = np.array([np.std(real[k]) for k in columns])
    moved = c[np.sort(np.random.default_rng(seed).choice(len(c), min(examples, len(c)), replace=False))]

    def effect(v):
        s = dirs.spread(c, v)
        change = dirs.effects(rt.decode, lambda im: measure(im, columns), moved, v, sigma * s)
        return (s, [float(change[k][0] / sd) for k, sd in zip(columns, std)],
                [float(change[k][1] / sd) for k, sd in zip(columns, std)])

    items = []
    for name in names:
        spread, eff, se = effect(final[name])
        spread_raw, eff_raw, se_raw = (spread, eff, se) if against[name] == [] else effect(raw[name])
        items.append(Direction(name, sources[name], spread, raw[name].tolist(), spread_raw, against[name], eff,
                               eff_raw, se, se_raw))
    return Directions(columns, std.tolist(), float(sigma), len(moved), {}, items,
                      dirs.cosines([raw[k] for k in names]).tolist(), dirs.cosines([final[k] for k in names]).tolist())


def _write(folder, m, d, codes, axes, record, map_points, seed):
    """The new manifest and map files, beside byte copies of the bundle's other files, swapped in."""
    quantiles = points.typicality_quantiles(codes, m.pca.std)
    new = replace(m, axes=axes, directions=record, map=None,
                  typicality=Typicality("mahalanobis2", quantiles.tolist(), len(codes)))
    keep = [f for f in m.files() if m.map is None or f not in (m.map.file, m.map.sprite)]
    with bundle.staged(folder) as tmp:
        for f in keep:
            shutil.copyfile(folder / f, tmp / f)
        if map_points:
            idx = points.map_points(d.y_train, map_points, len(codes), seed)
            (tmp / MAP_FILE).write_bytes(codes[idx].astype("<f2").tobytes())
            columns = math.ceil(math.sqrt(len(idx)))
            (tmp / SPRITE_FILE).write_bytes(encode_png(sprite(d.x_train[idx], columns)))
            new.map = MapInfo(MAP_FILE, len(idx), [int(i) for i in idx],
                              [] if d.y_train is None else [int(d.y_train[i]) for i in idx], SPRITE_FILE, columns)
        bundle.write_manifest(tmp, new)
    return new


def sprite(images, columns):
    """Images (N, H, W[, 3]) in [0, 1] tiled row-major, `columns` per row, as uint8."""
    n, h, w = images.shape[:3]
    rows = math.ceil(n / columns)
    tiles = np.zeros((rows * columns, *images.shape[1:]), np.uint8)
    tiles[:n] = np.round(np.clip(images, 0, 1) * 255)
    grid = tiles.reshape(rows, columns, h, w, -1).transpose(0, 2, 1, 3, 4).reshape(rows * h, columns * w, -1)
    return grid[..., 0] if images.ndim == 3 else grid
