"""The manifest: the one contract between Python and the browser, as dataclasses.

Python writes every manifest through `Manifest.to_json` and reads every one through
`Manifest.from_json`, which checks each key's type and the values every command relies on, and
raises BundleError naming the file and the key. The README's format table is checked against
these classes (tests/test_schema.py), and web/core/bundle.js checks the same keys in the browser.

Coordinates: a point is a vector of all Z PCA coordinates (`coords`), the latent z rotated
about the codes' mean. Every graph's `coords` input or output is that vector.
"""
import base64
import math
import re
import types
import typing
from dataclasses import MISSING, dataclass, field, fields, is_dataclass

from ..atomic import NAME
from ..errors import BundleError

FORMAT = "latent-explorer-bundle"
FORMAT_VERSION = 2
KINDS = ("image", "text")
# Files a manifest names are plain names inside the bundle folder: no folders, no "..".
FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
MANIFEST = "manifest.json"


@dataclass
class GraphSpec:
    file: str                                  # file name inside the bundle
    inputs: dict                               # name -> {"dtype": "float32", "shape": ["batch", 16]}
    outputs: dict                              # name -> {"dtype": "float32", "shape": ["batch", 8, 8]}
    atol: float = 1e-5                         # max |torch - onnxruntime| allowed by validation
    validation: dict = field(default_factory=dict)  # filled in by validate(): n_inputs, max_abs_diff, runtime
    weights: str = "float32"                   # how the big weights are stored: float32, float16 or int8


@dataclass
class Image:
    height: int                                # pixels
    width: int                                 # pixels
    channels: int = 1                          # 1: grey
    range: list = field(default_factory=lambda: [0.0, 1.0])  # pixel values the decoder gives and the encoder takes
    preprocess: dict = field(default_factory=dict)  # how training images were made, so a drawing is made alike


@dataclass
class Text:
    tokenizer: str                             # file: tokenizer.json, which the JS tokenizer loads
    specials: dict                             # {"pad", "unk", "bos", "eos"} -> token id
    max_len: int                               # decoder steps incl. </s>, and the encoder's input length
    variant: str                               # "loop" (loop.onnx, stops at </s>) or "unrolled" (greedy.onnx)


@dataclass
class Latent:
    size: int                                  # Z: the dimension of z and of coords


@dataclass
class PCAInfo:
    mean: list                                 # (Z,) mean of the training codes
    components: list                           # (Z, Z) rows: unit principal directions in z
    std: list                                  # (Z,) standard deviation of the codes along each component
    explained_variance_ratio: list             # (Z,)


@dataclass
class Axis:
    name: str                                  # slider label
    min: float                                 # slider range, in coordinate units
    max: float
    component: int | None = None               # this slider moves coords[component]
    direction: list | None = None              # or moves the point along this (Z,) vector (in coords)


@dataclass
class Anchor:
    index: int                                 # row in the training set
    label: int | None                          # class index (into dataset.label_names), if labelled
    coords: list                               # (Z,) the example's full coordinates: it decodes to its reconstruction
    text: str | None = None                    # sentences: the example itself


@dataclass
class Poster:
    point: list                                # (Z,) the point it shows: the element's first point (the mean, zeros)
    pixels: str | None = None                  # images: its decode as 8-bit pixels, H x W (x 3) row-major, base64
    text: str | None = None                    # sentences: the sentence it decodes to


@dataclass
class Dataset:
    name: str | None                           # e.g. "digits", "fashion-mnist", "wordnet"
    label_names: list                          # class index -> name; [] if unlabelled
    n_latents: int                             # training codes the PCA was fitted on


@dataclass
class Direction:
    name: str                                  # the axes[] entry it drives (same name, direction = the final vector)
    source: dict                               # how it was found: {"kind": "attribute" | "attribute-file" | "class-mean"
                                               # | "probe" | "edit" | "vector" | "transfer", ...details, fit quality}
    spread: float                              # σ: std of the fitting examples' coords along the final direction
    raw: list                                  # (Z,) unit vector before orthogonalization (= final if not orthogonalized)
    spread_raw: float                          # σ along `raw`
    orthogonal_to: list                        # names it was made orthogonal to ([] if none), in order
    effect: list                               # (A,) mean change of each of Directions.attributes when real examples
                                               # move from -sigma·σ to +sigma·σ along the final direction, in the
                                               # attribute's standard deviations (Directions.attribute_std)
    effect_raw: list                           # (A,) the same along `raw`, by ±sigma·spread_raw
    effect_se: list                            # (A,) standard error of each `effect` (over the examples)
    effect_raw_se: list                        # (A,) standard error of each `effect_raw`


@dataclass
class Directions:
    attributes: list                           # (A,) effect columns: built-in pixel attributes, recomputed on decodes
    attribute_std: list                        # (A,) each attribute's std over the fitting examples (real images)
    sigma: float                               # examples move from -sigma to +sigma spreads (default 2)
    n_examples: int                            # real examples moved and decoded per direction
    fit: dict                                  # the data the directions were fitted on: dataset, classes, n_examples
    items: list[Direction]                     # (D,) in axes order
    cosine_raw: list                           # (D, D) cosines between the raw directions
    cosine: list                               # (D, D) cosines between the final (axis) directions


@dataclass
class MapInfo:
    file: str                                  # N x Z coords of training examples: float16 little-endian, row-major
    count: int                                 # N
    indices: list                              # (N,) rows in the training set
    labels: list                               # (N,) class index per point; [] if unlabelled
    sprite: str | None = None                  # PNG of the points' training images, tiles of image.height x width
    columns: int = 1                           # tiles per sprite row: point i is at row i // columns, col i % columns
    dtype: str = "float16"                     # of `file`; the only one written


@dataclass
class Typicality:
    statistic: str                             # "mahalanobis2": d² = Σ_i (coords_i / pca.std_i)²
    quantiles: list                            # (Q,) d² of the training codes at probabilities 0, 1/(Q-1), ..., 1
    n: int                                     # training codes measured


@dataclass
class Manifest:
    name: str                                  # safe name: folder and URL segment in sites
    title: str                                 # shown to people
    kind: str                                  # "image" or "text"
    graphs: dict[str, GraphSpec]               # role -> graph: decoder | greedy | init, step | encoder
    latent: Latent
    pca: PCAInfo
    axes: list[Axis]                           # the sliders: leading components, later named directions
    anchors: list[Anchor]                      # real training examples to jump to
    dataset: Dataset
    provenance: dict                           # configs, seed, epochs, timings, test metrics, library versions
    metrics: dict = field(default_factory=dict)  # measured at export: faithfulness of reconstructions, ...
    image: Image | None = None                 # kind "image"
    text: Text | None = None                   # kind "text"
    directions: Directions | None = None       # records of the direction axes: source, cosines, effects
    map: MapInfo | None = None                 # the latent map: training points, their images
    typicality: Typicality | None = None       # the out-of-distribution meter's reference
    poster: Poster | None = None               # the decode of the first point, shown before the graphs load
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def files(self):
        """Every file the manifest names besides itself: what a site copies."""
        named = [g.file for g in self.graphs.values()]
        if self.text is not None:
            named.append(self.text.tokenizer)
        if self.map is not None:
            named += [self.map.file] + ([self.map.sprite] if self.map.sprite else [])
        return named

    def to_json(self):
        return _to_json(self)

    @classmethod
    def from_json(cls, data, path):
        """Parse and check a manifest dict read from `path`; raises BundleError naming the key."""
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            raise BundleError(f"{path}: not a latent-explorer manifest")
        if data.get("format_version") != FORMAT_VERSION:
            raise BundleError(f"{path}: bundle format version {data.get('format_version')!r}; this tool reads "
                              f"version {FORMAT_VERSION} (re-export the bundle with latent-explorer >= 0.2)")
        m = _load(cls, data, "", path)
        _check(m, path)
        return m


def _to_json(value):
    """Plain JSON data; an optional field (default None) that is None is left out."""
    if is_dataclass(value):
        return {f.name: _to_json(getattr(value, f.name)) for f in fields(value)
                if not (getattr(value, f.name) is None and f.default is None)}
    if isinstance(value, dict):
        return {k: _to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_json(v) for v in value]
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _load(tp, value, where, path):
    """`value` as type `tp` (dataclasses recursively), or BundleError naming the key `where`."""
    def bad(expected):
        raise BundleError(f"{path}: {where or 'the manifest'} must be {expected}, got {value!r:.60}")
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _load(next(a for a in args if a is not type(None)), value, where, path)
    if is_dataclass(tp):
        if not isinstance(value, dict):
            bad("an object")
        hints = typing.get_type_hints(tp)
        unknown = sorted(set(value) - {f.name for f in fields(tp)})
        if unknown:
            raise BundleError(f"{path}: unknown key {(where + '.' if where else '') + unknown[0]}")
        kwargs = {}
        for f in fields(tp):
            key = f"{where}.{f.name}" if where else f.name
            if f.name in value:
                kwargs[f.name] = _load(hints[f.name], value[f.name], key, path)
            elif f.default is MISSING and f.default_factory is MISSING:
                raise BundleError(f"{path}: missing key {key}")
        return tp(**kwargs)
    if origin is dict:
        if not isinstance(value, dict):
            bad("an object")
        return {k: _load(args[1], v, f"{where}.{k}", path) for k, v in value.items()}
    if origin is list or tp is list:
        if not isinstance(value, list):
            bad("an array")
        return [_load(args[0], v, f"{where}[{i}]", path) for i, v in enumerate(value)] if args else value
    if tp is dict:
        return value if isinstance(value, dict) else bad("an object")
    if tp is bool:
        return value if isinstance(value, bool) else bad("true or false")
    if tp is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else bad("an integer")
    if tp is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
        return float(value) if ok else bad("a finite number")
    if tp is str:
        return value if isinstance(value, str) else bad("a string")
    raise TypeError(f"schema type {tp} is not handled")  # a bug in this file, not in the manifest


def _numbers(values, n, key, path, positive=False):
    ok = (isinstance(values, list) and len(values) == n and all(
        isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and (v > 0 or not positive)
        for v in values))
    if not ok:
        raise BundleError(f"{path}: {key} must be {n} finite{' positive' if positive else ''} numbers")


def _check(m, path):
    """The values every command relies on, beyond their types."""
    def need(ok, problem):
        if not ok:
            raise BundleError(f"{path}: {problem}")
    need(NAME.fullmatch(m.name), f"bundle name {m.name!r} is not allowed (use 1-64 characters of a-z, 0-9, "
                                 "'.', '_', '-', starting with a letter or digit)")
    need(m.kind in KINDS, f"kind {m.kind!r} is not one of {', '.join(KINDS)}")
    need(m.graphs, "graphs must be a non-empty object")
    need((m.image is not None) == (m.kind == "image") and (m.text is not None) == (m.kind == "text"),
         f"a {m.kind} bundle needs the key {m.kind} (and not the other kind's)")
    for f in m.files():
        need(FILE.fullmatch(f) and f != MANIFEST, f"names the file {f!r}, which is not a plain file name in the bundle")
    z = m.latent.size
    need(0 < z <= 4096, f"latent.size {z} is out of range")
    _numbers(m.pca.mean, z, "pca.mean", path)
    _numbers(m.pca.std, z, "pca.std", path, positive=True)
    _numbers(m.pca.explained_variance_ratio, z, "pca.explained_variance_ratio", path)
    need(isinstance(m.pca.components, list) and len(m.pca.components) == z, f"pca.components must be {z} rows")
    for i, row in enumerate(m.pca.components):
        _numbers(row, z, f"pca.components[{i}]", path)
    for i, a in enumerate(m.axes):
        need(a.min < a.max, f"axes[{i}]: min must be below max")
        need((a.component is None) != (a.direction is None), f"axes[{i}]: needs a component or a direction")
        need(a.component is None or 0 <= a.component < z, f"axes[{i}].component {a.component} is out of range")
        if a.direction is not None:
            _numbers(a.direction, z, f"axes[{i}].direction", path)
    for i, a in enumerate(m.anchors):
        _numbers(a.coords, z, f"anchors[{i}].coords", path)
    if m.poster is not None:
        _numbers(m.poster.point, z, "poster.point", path)
        if m.kind == "image":
            size = m.image.height * m.image.width * m.image.channels
            try:
                n = len(base64.b64decode(m.poster.pixels or "", validate=True))
            except ValueError:
                n = -1
            need(n == size, f"poster.pixels must be base64 of {size} bytes (height x width x channels)")
        else:
            need(isinstance(m.poster.text, str), "poster.text must be a string")
    names = [a.name for a in m.axes]
    need(len(set(names)) == len(names), "axes: two axes have the same name")
    if m.directions is not None:
        _check_directions(m.directions, {a.name: a for a in m.axes}, z, path)
    if m.map is not None:
        need(m.map.dtype == "float16", f"map.dtype {m.map.dtype!r} is not float16")
        need(m.map.count >= 1 and len(m.map.indices) == m.map.count, "map.indices must have map.count entries")
        need(m.map.labels == [] or len(m.map.labels) == m.map.count, "map.labels must have map.count entries or none")
        need(m.map.columns >= 1, "map.columns must be at least 1")
    if m.typicality is not None:
        q = m.typicality.quantiles
        _numbers(q, len(q), "typicality.quantiles", path)
        need(len(q) >= 2 and all(a <= b for a, b in zip(q, q[1:])), "typicality.quantiles must be 2+ ascending numbers")


def _check_directions(d, axes, z, path):
    n, k = len(d.items), len(d.attributes)
    _numbers(d.attribute_std, k, "directions.attribute_std", path, positive=True)
    for i, item in enumerate(d.items):
        key = f"directions.items[{i}]"
        axis = axes.get(item.name)
        if axis is None or axis.direction is None:
            raise BundleError(f"{path}: {key}: no direction axis named {item.name!r}")
        _numbers(item.raw, z, f"{key}.raw", path)
        _numbers(item.effect, k, f"{key}.effect", path)
        _numbers(item.effect_raw, k, f"{key}.effect_raw", path)
        _numbers(item.effect_se, k, f"{key}.effect_se", path)
        _numbers(item.effect_raw_se, k, f"{key}.effect_raw_se", path)
        _numbers([item.spread, item.spread_raw], 2, f"{key}.spread and spread_raw", path, positive=True)
    for key in ("cosine", "cosine_raw"):
        rows = getattr(d, key)
        if not (isinstance(rows, list) and len(rows) == n):
            raise BundleError(f"{path}: directions.{key} must be {n} rows")
        for i, row in enumerate(rows):
            _numbers(row, n, f"directions.{key}[{i}]", path)
