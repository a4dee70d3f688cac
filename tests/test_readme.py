"""The README's Python example runs as written."""
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
