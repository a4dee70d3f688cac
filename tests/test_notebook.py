"""The element in Jupyter: `Explorer(bundle)` (anywidget). A real JupyterLab, and a real Jupyter
Notebook 7, on 127.0.0.1 with a token, in a temporary folder, opened in Chromium: the widget decodes,
`w.point` set from Python moves it, and a slider moved in the browser updates `w.point` in the kernel."""
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request

import numpy as np
import pytest
from conftest import ROOT, free_port
from test_browser import shown_rgba
from test_embed import wait_for
from test_points_browser import ort_decode

pytest.importorskip("anywidget", reason="anywidget is not installed (the [notebook] extra)")


SENTENCES = ROOT / "models" / "wordnet-sentences"


def test_decode_in_the_kernel_equals_the_bundles_graph(digits_bundle):
    from exporter import Explorer
    w = Explorer(digits_bundle)
    assert w.point == [0.0] * 8 and set(w.files) >= {"manifest.json", "decoder.onnx", "encoder.onnx"}
    points = np.random.default_rng(0).standard_normal((5, 8)).astype(np.float32)
    np.testing.assert_allclose(w.decode(points), ort_decode(digits_bundle, points), atol=0)
    with pytest.raises(Exception, match="8 finite numbers"):
        w.point = [0.0] * 3
    assert "node_modules" not in " ".join(w.modules) and "latent-explorer.js" in w.modules


def cell(source):
    return {"cell_type": "code", "metadata": {}, "execution_count": None, "outputs": [], "source": source}


def run_cell(page, index):
    """Select cell `index` in command mode and run it with Shift+Enter."""
    page.locator(".jp-Notebook .jp-Cell").nth(index).locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")


def kernel_connected(port, token, proc, seconds=120):
    """Wait until the server has a kernel that is idle and has a front end connected to it."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/kernels?token={token}", timeout=5) as r:
                kernels = json.load(r)
        except urllib.error.HTTPError as e:  # a kernel still starting can answer 500 (seen once in CI): ask again
            if e.code < 500:
                raise
            kernels = []
        if any(k["execution_state"] == "idle" and k["connections"] > 0 for k in kernels):
            return
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter exited: {proc.stderr.read()[-2000:]}")
        time.sleep(0.25)
    raise RuntimeError(f"no kernel connected in {seconds} s: {kernels}")


# (front end, its package, the command, the notebook's URL path)
FRONT_ENDS = {"jupyterlab": ("jupyterlab", "lab", "lab/tree/explore.ipynb"),
              "notebook7": ("notebook", "notebook", "notebooks/explore.ipynb")}


@pytest.mark.browser
@pytest.mark.parametrize("front_end", sorted(FRONT_ENDS))
def test_the_widget_in_jupyter(tmp_path, page, digits_bundle, front_end):
    package, command, path = FRONT_ENDS[front_end]
    pytest.importorskip(package, reason=f"{package} is not installed (the test extra)")
    point = [round(v, 3) for v in np.random.default_rng(1).standard_normal(8).tolist()]
    nb = {"nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                                           "language": "python"}},
          "cells": [cell(f"from exporter import Explorer\nw = Explorer({str(digits_bundle)!r})\nw"),
                    cell(f"w.point = {point}"),
                    cell("print('POINT', w.point)"),
                    cell(f"s = Explorer({str(SENTENCES)!r})\ns")]}
    root = tmp_path / "notebooks"
    root.mkdir()
    (root / "explore.ipynb").write_text(json.dumps(nb))
    token, port = secrets.token_hex(16), free_port()
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
           "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"), "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "settings")}
    settings = tmp_path / "settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True)
    (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    jupyter = shutil.which("jupyter", path=os.path.dirname(sys.executable))
    proc = subprocess.Popen([jupyter, command, "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
                             *(["--allow-root"] if os.geteuid() == 0 else [])],  # CI runs as root
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=root)
    try:
        wait_for(f"http://127.0.0.1:{port}/api/status?token={token}", proc, seconds=120)
        page.set_default_timeout(120_000)
        warnings = []  # e.g. "latent-explorer: the decoding worker did not start ...; decoding on the page's thread"
        page.on("console", lambda m: warnings.append(m.text) if m.text.startswith("latent-explorer:") else None)
        page.goto(f"http://127.0.0.1:{port}/{path}?token={token}")
        page.wait_for_selector(".jp-Notebook .jp-Cell")
        kernel_connected(port, token, proc)
        run_cell(page, 0)
        page.wait_for_selector("latent-explorer", state="attached")
        assert page.evaluate("document.querySelector('latent-explorer').ready.then(() => true, (e) => e.message)")
        got = page.evaluate("document.querySelector('latent-explorer').decode([new Array(8).fill(0)])"
                            ".then((r) => Array.from(r[0]))")
        np.testing.assert_allclose(got, ort_decode(digits_bundle, [[0] * 8])[0].ravel(), atol=1e-5)
        # decoded in the worker, started from the blob: URL of core/worker.js
        assert any(w.url.startswith("blob:") for w in page.workers) and warnings == [], warnings

        run_cell(page, 1)  # w.point = point, from Python
        page.wait_for_function("(p) => { const x = document.querySelector('latent-explorer');"
                               " return x.point.every((v, i) => Math.abs(v - p[i]) < 1e-6); }", arg=point)
        page.wait_for_timeout(300)
        canvas = shown_rgba(page)[..., 0] / 255
        np.testing.assert_allclose(canvas, ort_decode(digits_bundle, [point])[0], atol=1 / 255 + 1e-6)

        slider = page.locator("latent-explorer .axis input[type=range]").first
        slider.fill(str(float(slider.get_attribute("min")) / 2))  # a move in the browser ...
        moved = page.evaluate("document.querySelector('latent-explorer').point")
        assert moved != point
        page.wait_for_timeout(500)
        run_cell(page, 2)  # ... reaches Python
        page.wait_for_selector("text=POINT")
        printed = page.locator(".jp-OutputArea-output pre", has_text="POINT").inner_text()
        np.testing.assert_allclose(json.loads(printed.split("POINT", 1)[1]), moved, atol=1e-6)

        run_cell(page, 3)  # a sentence bundle: the tokenizer library travels over the comm too
        page.wait_for_function("document.querySelectorAll('latent-explorer').length === 2")
        anchor = json.loads((SENTENCES / "manifest.json").read_text())["anchors"][0]
        [row] = page.evaluate("(c) => { const x = document.querySelectorAll('latent-explorer')[1];"
                              " return x.ready.then(() => x.decode([c])); }", anchor["coords"])
        assert row["text"] == anchor["text"]  # an anchor is a sentence the model reconstructs exactly
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
