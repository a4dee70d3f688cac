"""The static site and the server that serves it."""
import json
import urllib.request

from conftest import SHIPPED, TEST_BUNDLES

from exporter.site.build import ORT_FILES, TOKENIZERS_FILES
from exporter.site.serve import make_server


def test_site_is_self_contained(site):
    assert sorted(p.name for p in (site / "ort").iterdir()) == sorted(ORT_FILES)
    assert sorted(p.name for p in (site / "tokenizers").iterdir()) == sorted(TOKENIZERS_FILES)  # no CDN
    assert not list(site.rglob("*jsep*")) and not list(site.rglob("node_modules"))
    for f in ("index.html", "latent-explorer.js", "dom.js", "core/bundle.js", "core/model.js", "core/runtime.js",
              "core/client.js", "core/host.js", "core/worker.js",
              "core/decoders.js", "core/encoders.js", "core/space.js", "core/tokenizer.js",
              "views/image.js", "views/text.js", "inputs/drawing-pad.js", "inputs/sentence-box.js",
              "panels/sliders.js", "panels/examples.js", "panels/interpolate.js", "panels/share.js"):
        assert (site / f).is_file(), f
    index = json.loads((site / "models" / "index.json").read_text())
    assert [m["name"] for m in index["models"]] == [*TEST_BUNDLES, *SHIPPED]
    digits = index["models"][TEST_BUNDLES.index("test-digits")]
    assert digits == {"name": "test-digits", "title": "digits (mlp VAE, z = 8)", "kind": "image",
                      "manifest": "models/test-digits/manifest.json"}
    runtime = sum(p.stat().st_size for p in site.rglob("*") if p.is_file() and "models" not in p.relative_to(site).parts)
    assert runtime < 16e6, f"page + element + runtime weigh {runtime / 1e6:.1f} MB"  # wasm build only: 14 MB


def test_server_binds_loopback_only(site):
    server = make_server(site, 0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_server_headers_and_types(http_server):
    expected = {"": "text/html", "latent-explorer.js": "text/javascript", "ort/ort.wasm.min.mjs": "text/javascript",
                "ort/ort-wasm-simd-threaded.wasm": "application/wasm", "models/test-digits/manifest.json": "application/json",
                "models/test-digits/decoder.onnx": "application/octet-stream"}
    for path, mime in expected.items():
        with urllib.request.urlopen(http_server.base_url + path) as r:
            assert r.headers["Content-Type"].split(";")[0] == mime, path
            assert r.headers["Cross-Origin-Opener-Policy"] == "same-origin"
            assert r.headers["Cross-Origin-Embedder-Policy"] == "require-corp"


def test_server_without_isolation_sends_no_coop_coep(site):
    import threading
    server = make_server(site, 0, isolate=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_address[1]}/") as r:
            assert r.status == 200 and "Cross-Origin-Embedder-Policy" not in r.headers
    finally:
        server.shutdown()
        server.server_close()
