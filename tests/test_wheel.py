"""pip install works: the wheel built from this tree, installed (with its dependencies) into a
fresh venv outside the repo, runs the README's Python example, `site`, `serve` (in Chromium),
`embed` and `demo` from an empty folder, and never imports torch to show --help."""
import subprocess
import sys

import numpy as np
import pytest
from conftest import ROOT, free_port
from test_embed import wait_for
from test_readme import python_block

from exporter.export.graphs import session


def run(cmd, cwd=None, ok=True, timeout=900):
    p = subprocess.run([str(c) for c in cmd], cwd=cwd, capture_output=True, text=True, timeout=timeout)
    if ok:
        assert p.returncode == 0, f"{cmd}: {p.stderr[-3000:]}"
    return p


@pytest.fixture(scope="module")
def venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("wheel")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", root / "dist", ROOT])
    [wheel] = root.glob("dist/*.whl")
    run([sys.executable, "-m", "venv", root / "venv"])
    pip = [root / "venv" / "bin" / "python", "-m", "pip", "install", "--quiet", "-c", ROOT / "constraints.txt"]
    run([*pip, "torch==2.13.0"])  # first, alone: the CPU build (README: "Installing")
    run([*pip, wheel])
    (root / "empty").mkdir()
    return root


def test_the_wheel_carries_the_element_and_runtime_but_no_models(venv):
    import zipfile
    [wheel] = venv.glob("dist/*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "exporter/web/latent-explorer.js" in names and "exporter/site/build.py" in names
    assert "exporter/web/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm" in names
    assert not [n for n in names if n.startswith("models/") or n.endswith(".onnx")]
    assert "exporter/web/node_modules/@huggingface/tokenizers/dist/tokenizers.min.mjs" in names
    assert sum(1 for n in names if "node_modules" in n) == 4, "only the three runtime files and the tokenizer library"
    assert any(n.endswith("licenses/LICENSE") for n in names)


@pytest.mark.browser
def test_installed_commands_from_an_empty_folder(venv, page, console_errors):
    bin_, empty = venv / "venv" / "bin", venv / "empty"
    where = run([bin_ / "python", "-c", "import exporter, sys, exporter.cli; print(exporter.__file__, 'torch' in sys.modules)"],
                cwd=empty).stdout.split()
    assert "site-packages" in where[0] and str(ROOT) not in where[0] and where[1] == "False"
    run([bin_ / "latent-explorer", "--help"], cwd=empty)

    example = python_block("export_image_bundle(")
    run([bin_ / "python", "-c", example], cwd=empty)
    assert (empty / "models" / "mine" / "encoder.onnx").is_file()

    p = run([bin_ / "latent-explorer", "site", "--out", "s"], cwd=empty, ok=False)
    assert p.returncode == 1 and "no bundles given" in p.stderr and len(p.stderr.strip().splitlines()) == 1
    run([bin_ / "latent-explorer", "site", "models/mine", "--out", "site"], cwd=empty)
    run([bin_ / "latent-explorer", "embed", "models/mine", "--out", "embed"], cwd=empty)
    assert (empty / "embed" / "ort" / "ort-wasm-simd-threaded.wasm").is_file()

    port = free_port()
    proc = subprocess.Popen([bin_ / "latent-explorer", "serve", "site", "--port", str(port)], cwd=empty,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(f"http://127.0.0.1:{port}/", proc)
        page.goto(f"http://127.0.0.1:{port}/?model=mine")
        page.wait_for_function("document.querySelector('latent-explorer')?.ready")
        assert page.evaluate("document.querySelector('latent-explorer').ready.then(() => true, (e) => e.message)")
        pixels = page.evaluate("document.querySelector('latent-explorer').decode([new Array(16).fill(0)])"
                               ".then((r) => Array.from(r[0]))")
        want = session(empty / "site" / "models" / "mine" / "decoder.onnx").run(
            None, {"coords": np.zeros((1, 16), np.float32)})[0]
        np.testing.assert_allclose(pixels, want.ravel(), atol=1e-5)
        assert console_errors == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)

    run([bin_ / "latent-explorer", "demo", "--work", "w", "--epochs", "2", "--no-serve"], cwd=empty)
    assert (empty / "w" / "site" / "models" / "digits" / "decoder.onnx").is_file()
    assert sorted(p.name for p in (empty / "w" / "site" / "models").iterdir()) == ["digits", "index.json"], \
        "an installed package ships no bundles: the demo shows its own"
