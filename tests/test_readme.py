"""The README's Python examples run as written."""
import re
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def test_python_api_example_runs(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    assert blocks, "README has no python example"
    monkeypatch.chdir(tmp_path)
    exec(compile(blocks[0], "README.md", "exec"), {})
    assert (tmp_path / "models" / "mine" / "manifest.json").is_file()
    assert (tmp_path / "models" / "mine" / "decoder.onnx").is_file()
    assert (tmp_path / "models" / "mine" / "encoder.onnx").is_file()
    assert sorted(p.name for p in (tmp_path / "models" / "mine-decoder-only").iterdir()) == ["decoder.onnx",
                                                                                             "manifest.json"]


def test_python_sentence_model_example_runs(tmp_path, monkeypatch):
    """The bring-your-own sentence model example: a module following the protocol, exported
    through the same gate, int8 embedding, a tokenizer.json in the bundle."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    [block] = [b for b in blocks if "export_text_bundle" in b]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme"})
    folder = tmp_path / "models" / "my-sentences"
    assert sorted(p.name for p in folder.iterdir()) == ["encoder.onnx", "init.onnx", "manifest.json", "step.onnx",
                                                        "tokenizer.json"]
    import json
    m = json.loads((folder / "manifest.json").read_text())
    assert m["text"]["max_len"] == 16 and m["metrics"]["quantization"]["decoder"] == {"model.embed.weight": "float16"}
