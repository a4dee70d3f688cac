"""The browser computes what Python computes: <latent-explorer> in headless Chromium against
onnxruntime (CPU) in Python, on the same decoder.onnx file served by `latent-explorer serve`."""
import base64
import json

import numpy as np
import pytest
from conftest import ROOT, SHIPPED, TEST_BUNDLES

from exporter.export.graphs import session
from exporter.space.points import validation_coords

pytestmark = pytest.mark.browser

EMBED = """<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module" src="/latent-explorer.js"></script>
<latent-explorer id="x" src="{src}"></latent-explorer>"""


@pytest.fixture
def open_element(page, http_server):
    """Open a page embedding the element the way a blog post would, and wait until it is ready."""
    def open_(src="/models/test-digits/manifest.json"):
        page.route(http_server.base_url + "embed.html", lambda route: route.fulfill(
            content_type="text/html", body=EMBED.format(src=src),
            headers={"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}))
        page.goto(http_server.base_url + "embed.html")
        return page.evaluate("document.getElementById('x').ready.then(() => true, (e) => e.message)")
    return open_


def python_decode(bundle, coords):
    return session(bundle / "decoder.onnx").run(None, {"coords": np.asarray(coords, np.float32)})[0]


def manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text())


SHIPPED_IMAGES = [n for n in SHIPPED if json.loads((ROOT / "models" / n / "manifest.json").read_text())["kind"] == "image"]


@pytest.mark.parametrize("name", ["test-digits", "test-conv", "test-conv-float16", "test-conv-int8", *SHIPPED_IMAGES])
def test_decode_matches_python_onnxruntime(name, open_element, http_server, console_errors, page):
    bundle = http_server.root / "models" / name
    assert open_element(f"/models/{name}/manifest.json") is True
    m = json.loads((bundle / "manifest.json").read_text())
    std = m["pca"]["std"]
    coords = validation_coords(std, n=256, seed=7)  # includes ±5σ on every axis and corners
    assert np.isclose(np.abs(coords / std), 5.0).any(axis=0).all()
    got = page.evaluate("async (batch) => (await document.getElementById('x').decode(batch)).map((r) => Array.from(r))",
                        coords.tolist())
    want = python_decode(bundle, coords)  # (n, H, W) grey or (n, H, W, 3) RGB
    got = np.array(got, dtype=np.float64).reshape(want.shape)
    diff = np.abs(got - want).max()
    print(f"{name}: browser vs python onnxruntime: max abs diff {diff:.3g} over {len(coords)} coords")
    assert diff <= 1e-5
    assert console_errors == []


def shown_rgba(page, selector="latent-explorer"):
    """What the element's picture shows now, (H, W, 4) levels 0..255: `el.snapshot()`, which reads
    the pixels of the canvas on show, wherever it is painted (the page or the decoding worker)."""
    h, w, data = page.evaluate("""async (sel) => {
        const d = await document.querySelector(sel).snapshot();
        return [d.height, d.width, Array.from(d.data)];
    }""", selector)
    return np.array(data, np.float64).reshape(h, w, 4)


def on_screen(page, selector="latent-explorer"):
    """The element's main picture as the screen shows it, (H, W, 4) levels 0..255: a screenshot of
    its canvas, read back in the page at the centre of each image pixel. Unlike `el.snapshot()`,
    which reads a canvas, this sees what covers what, and whether a worker's frames reach the screen."""
    png = page.locator(f"{selector} canvas.main").screenshot()
    h, w, data = page.evaluate("""async ([sel, b64]) => {
        const c = document.querySelector(sel).shadowRoot.querySelector('canvas.main');
        const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
        const shot = await createImageBitmap(new Blob([bytes], { type: 'image/png' }),
                                             { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
        const g = new OffscreenCanvas(shot.width, shot.height).getContext('2d');
        g.drawImage(shot, 0, 0);
        const d = g.getImageData(0, 0, shot.width, shot.height).data;
        const out = [];
        for (let y = 0; y < c.height; y++) {
            for (let x = 0; x < c.width; x++) {
                const row = Math.floor((y + 0.5) * shot.height / c.height);
                const at = row * shot.width + Math.floor((x + 0.5) * shot.width / c.width);
                out.push(...d.subarray(4 * at, 4 * at + 4));
            }
        }
        return [c.height, c.width, out];
    }""", [selector, base64.b64encode(png).decode()])
    return np.array(data, np.float64).reshape(h, w, 4)


def canvas_pixels(page):
    return shown_rgba(page, "#x")[..., 0]


def test_moving_a_slider_repaints_what_python_decodes(open_element, digits_bundle, console_errors, page):
    Z = manifest(digits_bundle)["latent"]["size"]
    assert open_element() is True
    before = canvas_pixels(page)
    np.testing.assert_allclose(before / 255, python_decode(digits_bundle, [[0] * Z])[0], atol=1 / 255)
    slider = page.locator("latent-explorer .axis input[type=range]").first
    box = slider.bounding_box()
    page.evaluate("""() => { const x = document.getElementById('x');
        window.painted = new Promise((ok) => x.addEventListener('latent-render', (e) => {
          if (e.detail.point.every((v, i) => v === x.point[i])) ok(); })); }""")
    page.mouse.click(box["x"] + box["width"] * 0.9, box["y"] + box["height"] / 2)
    page.evaluate("window.painted")
    coords = page.evaluate("document.getElementById('x').point")
    assert coords[0] > 0 and coords[1:] == [0] * (Z - 1)  # the other Z - 1 coordinates stay
    after = canvas_pixels(page)
    assert np.abs(after - before).max() > 0, "the canvas did not change"
    np.testing.assert_allclose(after / 255, python_decode(digits_bundle, [coords])[0], atol=1 / 255)
    assert console_errors == []


def test_keyboard_and_events(open_element, digits_bundle, page, console_errors):
    Z = manifest(digits_bundle)["latent"]["size"]
    assert open_element() is True
    page.evaluate("""() => { window.changes = [];
        document.getElementById('x').addEventListener('latent-change', (e) => changes.push(e.detail)); }""")
    slider = page.get_by_label("PC2")
    slider.focus()
    page.keyboard.press("ArrowRight")
    changes = page.evaluate("changes")
    assert len(changes) == 1 and changes[0]["source"] == "slider"
    assert changes[0]["point"][1] > 0 and changes[0]["point"][0] == 0 and changes[0]["coords"] == changes[0]["point"]
    point = list(range(1, Z + 1))
    page.evaluate("(p) => { document.getElementById('x').point = p; }", point)
    assert page.evaluate("document.getElementById('x').point") == point
    assert page.evaluate("changes.at(-1)") == {"point": point, "coords": point, "source": "api"}
    page.evaluate("(p) => { document.getElementById('x').coords = p; }", point[::-1])  # the old name, an alias
    assert page.evaluate("document.getElementById('x').point") == point[::-1]
    assert console_errors == []


def test_examples_random_and_reset(open_element, digits_bundle, page, console_errors):
    assert open_element() is True
    m = manifest(digits_bundle)
    anchors = m["anchors"]
    picker = page.get_by_role("combobox", name="example", exact=True)
    assert picker.locator("option").count() == len(anchors) + 1
    picker.select_option(index=3)
    got = page.evaluate("document.getElementById('x').point")
    assert got == anchors[2]["coords"]  # all Z coordinates, exactly
    page.get_by_role("button", name="Random").click()
    assert page.evaluate("document.getElementById('x').point") != got
    page.get_by_role("button", name="Reset").click()
    assert page.evaluate("document.getElementById('x').point") == [0] * m["latent"]["size"]
    assert console_errors == []


def test_wrong_src_shows_a_readable_message(open_element, page):
    message = open_element("/models/nope/manifest.json")
    assert "404" in message
    status = page.locator("latent-explorer .status")
    assert status.is_visible() and "Could not load /models/nope/manifest.json" in status.inner_text()


def test_demo_page_lists_and_shows_models(page, http_server, console_errors):
    page.goto(http_server.base_url + "?model=test-conv")
    page.wait_for_function("document.querySelector('latent-explorer')?.model")
    titles = page.locator("nav a").all_inner_texts()
    index = json.loads((http_server.root / "models" / "index.json").read_text())["models"]
    assert titles == [m["title"] for m in index] and len(titles) == len(TEST_BUNDLES) + len(SHIPPED)
    assert page.locator("nav a[aria-current]").inner_text() == "digits (conv VAE, z = 6)"
    axes = manifest(http_server.root / "models" / "test-conv")["axes"]
    assert page.locator("latent-explorer .axis input[type=range]").count() == len(axes)
    assert page.evaluate("crossOriginIsolated") is True
    assert console_errors == []


def test_works_without_cross_origin_isolation(page, site, console_errors):
    """A blog host sends no COOP/COEP: the element must still decode, single-threaded, in its worker."""
    import threading

    from exporter.site.serve import make_server
    server = make_server(site, 0, isolate=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/?model=test-digits")
        page.wait_for_function("document.querySelector('latent-explorer')?.model")
        assert page.evaluate("crossOriginIsolated") is False
        Z = manifest(site / "models" / "test-digits")["latent"]["size"]
        [row] = page.evaluate("(z) => document.querySelector('latent-explorer').decode([new Array(z).fill(0)])"
                              ".then((r) => r.map((x) => Array.from(x)))", Z)
        np.testing.assert_allclose(row, python_decode(site / "models" / "test-digits", [[0] * Z])[0].ravel(), atol=1e-5)
        assert [w.url.split("/")[-1] for w in page.workers] == ["worker.js"]  # core/worker.js
        assert console_errors == []
    finally:
        server.shutdown()
        server.server_close()
