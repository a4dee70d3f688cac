"""The manifest: the one contract between Python and the browser, as dataclasses.

Python writes every manifest through `Manifest.to_json` and reads every one through
`Manifest.from_json`, which checks each key's type and the values every command relies on, and
raises BundleError naming the file and the key. The README's format table is checked against
these classes (tests/test_schema.py), and web/core/bundle.js checks the same keys in the browser.

Coordinates: a point is a vector of all Z PCA coordinates (`coords`), the latent z rotated
about the codes' mean. Every graph's `coords` input or output is that vector.
"""
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
    tokenizer: str                             # file: the vocabulary the JS tokenizer loads
    specials: dict                             # {"pad", "unk", "bos", "eos"} -> token id
    max_len: int                               # decoder steps incl. </s>, and the encoder's input length
    variant: str                               # "unrolled" (greedy.onnx) or "step" (init.onnx + step.onnx)


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
class Dataset:
    name: str | None                           # e.g. "digits", "fashion-mnist", "wordnet"
    label_names: list                          # class index -> name; [] if unlabelled
    n_latents: int                             # training codes the PCA was fitted on


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
    format: str = FORMAT
    format_version: int = FORMAT_VERSION

    def files(self):
        """Every file the manifest names besides itself: what a site copies."""
        named = [g.file for g in self.graphs.values()]
        if self.text is not None:
            named.append(self.text.tokenizer)
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
