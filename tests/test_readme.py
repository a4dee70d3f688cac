"""The README's Python examples run as written."""
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"


def python_block(containing):
    blocks = [b for b in re.findall(r"```python\n(.*?)```", README.read_text(), re.S) if containing in b]
    assert blocks, f"README has no python example with {containing}"
    return blocks[0]


def test_python_api_example_runs(tmp_path, monkeypatch):
    block = python_block("export_image_bundle(")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {})
    assert (tmp_path / "models" / "mine" / "manifest.json").is_file()
    assert (tmp_path / "models" / "mine" / "decoder.onnx").is_file()
    assert (tmp_path / "models" / "mine" / "encoder.onnx").is_file()
    assert sorted(p.name for p in (tmp_path / "models" / "mine-decoder-only").iterdir()) == ["decoder.onnx",
                                                                                             "manifest.json"]


def test_notebook_example_runs(monkeypatch):
    """The Notebooks example, from the source checkout (its shipped bundle), in the kernel."""
    pytest.importorskip("anywidget", reason="anywidget is not installed (the [notebook] extra)")
    monkeypatch.chdir(README.parent)
    scope = {}
    exec(compile(python_block("Explorer("), "README.md", "exec"), scope)
    w = scope["w"]
    assert w.point == [0.0] * w.manifest.latent.size and w.manifest.kind == "image"


def test_python_sentence_model_example_runs(tmp_path, monkeypatch):
    """The bring-your-own sentence model example: a module following the protocol, exported
    through the same gate, int8 embedding, a tokenizer.json in the bundle."""
    block = python_block("export_text_bundle(")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    folder = tmp_path / "models" / "my-sentences"
    assert sorted(p.name for p in folder.iterdir()) == ["encoder.onnx", "loop.onnx", "manifest.json",
                                                        "tokenizer.json"]
    import json
    m = json.loads((folder / "manifest.json").read_text())
    assert m["text"]["max_len"] == 16 and m["metrics"]["quantization"]["decoder"] == {"model.embed.weight": "float16"}
