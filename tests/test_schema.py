"""The manifest schema is the contract: the README's table matches it, and it rejects what no
command could use, naming the key."""
import json
import re
import typing
from dataclasses import fields, is_dataclass
from pathlib import Path

import pytest

from exporter.bundle.schema import Manifest
from exporter.errors import BundleError

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_table():
    section = README.read_text().split("## The bundle", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {key: row for row in rows for key in re.findall(r"`([a-z_]+)`", row.split("|")[1])}


def test_readme_table_lists_every_key_and_subkey():
    table = readme_table()
    assert set(table) == {f.name for f in fields(Manifest)}
    hints = typing.get_type_hints(Manifest)
    for key, tp in hints.items():
        nested = [a for a in (typing.get_args(tp) or (tp,)) if is_dataclass(a)]
        if typing.get_origin(tp) in (list, dict):
            nested = [a for a in typing.get_args(tp) if is_dataclass(a)]
        for cls in nested:
            for f in fields(cls):
                assert f.name in table[key], f"README row for `{key}` does not mention {f.name}"


def test_shipped_manifests_round_trip(tmp_path):
    root = Path(__file__).resolve().parent.parent / "models"
    for path in sorted(root.glob("*/manifest.json")):
        data = json.loads(path.read_text())
        assert Manifest.from_json(data, path).to_json() == data


@pytest.fixture
def manifest():
    z = 2
    return {"format": "latent-explorer-bundle", "format_version": 2, "name": "m", "title": "M", "kind": "image",
            "graphs": {"decoder": {"file": "decoder.onnx", "inputs": {}, "outputs": {}}},
            "image": {"height": 2, "width": 2}, "latent": {"size": z},
            "pca": {"mean": [0, 0], "components": [[1, 0], [0, 1]], "std": [1, 1], "explained_variance_ratio": [.5, .5]},
            "axes": [{"name": "PC1", "min": -3, "max": 3, "component": 0}],
            "anchors": [{"index": 0, "label": None, "coords": [0, 0]}],
            "dataset": {"name": None, "label_names": [], "n_latents": 10}, "provenance": {}}


@pytest.mark.parametrize("path, value, message", [
    (["format_version"], 1, "format version 1; this tool reads version 2 (re-export"),
    (["latent", "size"], "2", "latent.size must be an integer"),
    (["pca", "std"], [1, 0], "pca.std must be 2 finite positive numbers"),
    (["pca", "std"], [1, float("nan")], "pca.std must be 2 finite positive numbers"),
    (["pca", "mean"], [0], "pca.mean must be 2 finite numbers"),
    (["axes", 0, "component"], 5, "axes[0].component 5 is out of range"),
    (["axes", 0, "min"], 9, "axes[0]: min must be below max"),
    (["anchors", 0, "coords"], [0, 0, 0], "anchors[0].coords must be 2 finite numbers"),
    (["anchors", 0, "label"], "x", "anchors[0].label must be an integer"),
    (["image"], None, "a image bundle needs the key image"),
    (["wings"], 2, "unknown key wings"),
    (["graphs", "decoder", "file"], "../x.onnx", "not a plain file name"),
])
def test_schema_rejects_with_the_key(manifest, path, value, message):
    node = manifest
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    with pytest.raises(BundleError, match=re.escape(message)):
        Manifest.from_json(manifest, "manifest.json")


def test_a_good_manifest_reads(manifest):
    m = Manifest.from_json(manifest, "manifest.json")
    assert m.axes[0].component == 0 and m.anchors[0].label is None and m.image.channels == 1
