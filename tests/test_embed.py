"""Where users are: `embed` writes just what an embedding needs and prints the HTML; a page on one
origin embeds the element and a bundle served by `serve --cors` on another; a real Jekyll site with
a baseurl embeds an image bundle and a sentence bundle in one post."""
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from conftest import free_port
from test_text_browser import text_site  # noqa: F401  (the small sentence bundles)

from exporter.cli import main
from exporter.export.graphs import session

ISOLATED = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}


def embed(capsys, out, *bundles, url=None):
    code = main(["embed", *map(str, bundles), "--out", str(out), *(["--url", url] if url else [])])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_embed_writes_only_what_an_embedding_needs(capsys, tmp_path, digits_bundle):
    out = tmp_path / "assets" / "latent-explorer"
    printed = embed(capsys, out, digits_bundle, url="/blog/assets/latent-explorer/")
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert not [f for f in files if f.endswith(".html")], "no demo pages in an embedding"
    assert "latent-explorer.js" in files and "ort/ort-wasm-simd-threaded.wasm" in files
    assert "tokenizers/tokenizers.min.mjs" in files  # sentence bundles' tokenizer, self-hosted
    assert "models/test-digits/manifest.json" in files and "models/test-digits/encoder.onnx" in files
    assert '<script type="module" src="/blog/assets/latent-explorer/latent-explorer.js"></script>' in printed
    assert '<latent-explorer src="/blog/assets/latent-explorer/models/test-digits/manifest.json">' in printed


@pytest.mark.parametrize("url", ["no-slash", "/a b/", '/x"/'])
def test_embed_url_must_be_a_folder_url(capsys, tmp_path, digits_bundle, url):
    assert main(["embed", str(digits_bundle), "--out", str(tmp_path / "e"), "--url", url]) == 1
    assert "--url" in capsys.readouterr().err and not (tmp_path / "e").exists()


def test_cors_origin_is_checked():
    from exporter.errors import LatentExplorerError
    from exporter.site.serve import check_origin
    assert check_origin("*") == "*" and check_origin("http://127.0.0.1:4000") == "http://127.0.0.1:4000"
    for bad in ("127.0.0.1:4000", "http://x.org/path", "ftp://x.org", "http://"):
        with pytest.raises(LatentExplorerError, match="--cors"):
            check_origin(bad)


PAGE = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="{element}latent-explorer.js"></script>
<latent-explorer id="x" src="{element}models/test-digits/manifest.json"></latent-explorer>"""


@pytest.mark.browser
@pytest.mark.parametrize("cors", [True, False])
def test_a_page_on_another_origin_embeds_the_element(page, site, digits_bundle, tmp_path, cors):
    """The page comes from one server (a blog), the element and bundle from `serve --cors` on another
    port, i.e. another origin. Without --cors the browser must refuse the module (so the test can fail).
    Both servers are real loopback servers: Chromium refuses a page it does not know to be local
    access to the loopback address space."""
    import functools
    import http.server
    import threading
    port = free_port()
    element = f"http://127.0.0.1:{port}/"
    (tmp_path / "blog").mkdir()
    (tmp_path / "blog" / "post.html").write_text(PAGE.format(element=element))
    blog = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "blog")))
    threading.Thread(target=blog.serve_forever, daemon=True).start()
    page_origin = f"http://127.0.0.1:{blog.server_address[1]}"
    args = ["--cors", page_origin] if cors else []
    proc = subprocess.Popen([sys.executable, "-m", "exporter", "serve", str(site), "--port", str(port), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(element, proc)
        errors, warnings = [], []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("console", lambda m: warnings.append(m.text) if m.text.startswith("latent-explorer:") else None)
        page.goto(page_origin + "/post.html")
        if not cors:
            page.wait_for_timeout(1500)
            assert page.evaluate("customElements.get('latent-explorer') === undefined")
            assert any("CORS" in e or "Access-Control-Allow-Origin" in e for e in errors), errors
            return
        page.wait_for_function("customElements.get('latent-explorer') !== undefined")  # a module from another origin
        assert page.evaluate("document.getElementById('x').ready.then(() => true, (e) => e.message)") is True
        pixels = page.evaluate("document.getElementById('x').decode([new Array(8).fill(0)])"
                               ".then((r) => Array.from(r[0]))")
        want = session(digits_bundle / "decoder.onnx").run(None, {"coords": np.zeros((1, 8), np.float32)})[0]
        np.testing.assert_allclose(np.array(pixels), want.ravel(), atol=1e-5)
        # the decoding worker runs here too: a same-origin blob: module imports the other origin's core/worker.js
        assert [w.url[:5] for w in page.workers] == ["blob:"] and warnings == [], warnings
        assert errors == []
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        blog.shutdown()
        blog.server_close()


def wait_for(url, proc=None, seconds=60):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            if proc is not None and proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read()[-2000:]}") from None
            time.sleep(0.25)
    raise RuntimeError(f"{url} did not answer in {seconds} s")


LAYOUT = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{{ page.title }}</title></head><body>{{ content }}</body></html>
"""
POST = """---
title: Latent spaces
layout: default
---
<p>An image model and a sentence model, live.</p>
<script type="module" src="{{ '/assets/latent-explorer/latent-explorer.js' | relative_url }}"></script>
<latent-explorer id="images" src="{{ '/assets/latent-explorer/models/test-digits/manifest.json' | relative_url }}">
</latent-explorer>
<latent-explorer id="sentences"
  src="{{ '/assets/latent-explorer/models/text-unrolled/manifest.json' | relative_url }}"></latent-explorer>
"""


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("jekyll") is None, reason="Jekyll is not installed (Debian package: jekyll)")
def test_a_jekyll_post_with_a_baseurl(capsys, tmp_path, page, digits_bundle, text_site, console_errors):  # noqa: F811
    src = tmp_path / "blog"
    (src / "_posts").mkdir(parents=True)
    (src / "_layouts").mkdir()
    (src / "_layouts" / "default.html").write_text(LAYOUT)
    (src / "_config.yml").write_text("title: test blog\nbaseurl: /blog\nmarkdown: kramdown\n")
    (src / "_posts" / "2026-01-01-latent.html").write_text(POST)
    embed(capsys, src / "assets" / "latent-explorer", digits_bundle, text_site / "models" / "text-unrolled",
          url="/blog/assets/latent-explorer/")
    port = free_port()
    proc = subprocess.Popen(["jekyll", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-watch",
                             "--disable-disk-cache", "-s", str(src), "-d", str(tmp_path / "_site")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "JEKYLL_ENV": "production"})
    try:
        url = f"http://127.0.0.1:{port}/blog/2026/01/01/latent.html"
        wait_for(url, proc, seconds=120)
        built = tmp_path / "_site" / "assets" / "latent-explorer"
        for f in ("ort/ort-wasm-simd-threaded.wasm", "models/test-digits/decoder.onnx"):
            assert (built / f).read_bytes() == (src / "assets" / "latent-explorer" / f).read_bytes(), f
        page.goto(url)
        page.wait_for_function("customElements.get('latent-explorer') !== undefined")
        for el in ("images", "sentences"):
            assert page.evaluate(f"document.getElementById('{el}').ready.then(() => true, (e) => e.message)") is True
        z = len(json.loads((digits_bundle / "manifest.json").read_text())["pca"]["std"])
        pixels = page.evaluate(f"document.getElementById('images').decode([new Array({z}).fill(0)])"
                               ".then((r) => Array.from(r[0]))")
        want = session(digits_bundle / "decoder.onnx").run(None, {"coords": np.zeros((1, z), np.float32)})[0]
        np.testing.assert_allclose(np.array(pixels), want.ravel(), atol=1e-5)
        m = json.loads((text_site / "models" / "text-unrolled" / "manifest.json").read_text())
        [row] = page.evaluate(f"document.getElementById('sentences').decode([{m['anchors'][0]['coords']}])")
        tokens = session(text_site / "models" / "text-unrolled" / "greedy.onnx").run(
            ["tokens"], {"coords": np.array([m["anchors"][0]["coords"]], np.float32)})[0][0].tolist()
        eos = m["text"]["specials"]["eos"]
        assert row["ids"] == (tokens[:tokens.index(eos)] if eos in tokens else tokens)
        assert console_errors == []
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def readme_hugo_shortcode():
    """The README's Hugo shortcode, as written there."""
    import re
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    hugo = readme[readme.index("**Hugo**"):]
    return re.search(r"```html\n(.*?)```", hugo, re.S).group(1)


HUGO_POST = """---
title: Latent spaces
---
An image model, shown twice by the shortcode (its module script runs once).

{{< latent-explorer test-digits >}}

{{< latent-explorer test-digits >}}
"""
HUGO_SINGLE = """<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,">
<title>{{ .Title }}</title></head><body>{{ .Content }}</body></html>
"""


@pytest.mark.browser
@pytest.mark.skipif(shutil.which("hugo") is None, reason="Hugo is not installed (Debian package: hugo)")
def test_a_hugo_post_with_the_readme_shortcode(capsys, tmp_path, page, digits_bundle, console_errors):
    """A real Hugo site under /blog/ with the README's shortcode used twice in a post, built by
    `hugo` and served as plain static files (Python's http.server, no COOP/COEP), as a blog host would."""
    src, port = tmp_path / "src", free_port()
    (src / "content" / "posts").mkdir(parents=True)
    (src / "layouts" / "shortcodes").mkdir(parents=True)
    (src / "layouts" / "_default").mkdir()
    (src / "config.toml").write_text(f'baseURL = "http://127.0.0.1:{port}/blog/"\ntitle = "test blog"\n'
                                     'disableKinds = ["taxonomy", "term", "RSS", "sitemap", "home", "section"]\n')
    (src / "layouts" / "_default" / "single.html").write_text(HUGO_SINGLE)
    (src / "layouts" / "shortcodes" / "latent-explorer.html").write_text(readme_hugo_shortcode())
    (src / "content" / "posts" / "latent.md").write_text(HUGO_POST)
    embed(capsys, src / "static" / "latent-explorer", digits_bundle, url="/blog/latent-explorer/")
    www = tmp_path / "www"
    built = subprocess.run(["hugo", "--quiet", "-s", str(src), "-d", str(www / "blog")], capture_output=True,
                           text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    import functools
    import http.server
    import threading
    server = http.server.ThreadingHTTPServer(("127.0.0.1", port), functools.partial(
        http.server.SimpleHTTPRequestHandler, directory=str(www)))  # plain static files, no COOP/COEP
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{port}/blog/posts/latent/"
        wait_for(url)
        page.goto(url)
        page.wait_for_function("customElements.get('latent-explorer') !== undefined")
        assert page.evaluate("document.querySelectorAll('latent-explorer').length") == 2
        assert page.evaluate("Promise.all([...document.querySelectorAll('latent-explorer')].map((x) => x.ready))"
                             ".then(() => true, (e) => e.message)") is True
        want = session(digits_bundle / "decoder.onnx").run(None, {"coords": np.zeros((1, 8), np.float32)})[0]
        for i in range(2):
            pixels = page.evaluate(f"document.querySelectorAll('latent-explorer')[{i}].decode([new Array(8).fill(0)])"
                                   ".then((r) => Array.from(r[0]))")
            np.testing.assert_allclose(np.array(pixels), want.ravel(), atol=1e-5)
        assert console_errors == []
    finally:
        server.shutdown()
        server.server_close()
