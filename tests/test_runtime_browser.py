"""The runtime: decoding runs in a Web Worker (the page's thread only paints), and a bundle's
poster shows the first point before the graphs have loaded, then the live decode replaces it
pixel for pixel (issue: the runtime)."""
import base64
import threading

import numpy as np
import pytest
from playwright.sync_api import expect
from test_browser import python_decode
from test_points_browser import DIGITS, ISOLATED, RECORD, embed, main_canvas, manifest, ort_decode, ort_encode, stroke, wait_ready

CANVAS = """(sel) => {
  const c = document.querySelector('latent-explorer').shadowRoot.querySelector(sel);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return Array.from(d.filter((_, i) => i % 4 === 0));
}"""

EVENTS = """window.events = [];
    for (const type of ['latent-poster', 'latent-render']) addEventListener(type, () => events.push(type));"""


def decoding_workers(page):
    """The element's decoding workers on the page (core/worker.js, or a blob: module importing it)."""
    return [w for w in page.workers if w.url.endswith("/core/worker.js") or w.url.startswith("blob:")]


def test_decoding_runs_in_a_worker_and_the_page_thread_stays_free(page, http_server, site, console_errors):
    """One worker decodes for the page; a 300-move slider drag with the 16 x 16 grid open and a
    grid refresh leave no long task over 50 ms on the page's thread (the decodes run elsewhere),
    and the pixels are Python's."""
    page.add_init_script("""window.longTasks = [];
        new PerformanceObserver((l) => longTasks.push(...l.getEntries().map((e) => e.duration)))
            .observe({ type: 'longtask' });""")
    page.goto(http_server.base_url + "?model=test-digits")
    assert wait_ready(page) is True
    assert len(decoding_workers(page)) == 1
    x = page.locator("latent-explorer")
    x.locator("details.grid summary").click()
    x.locator("details.grid select[aria-label='grid size']").select_option("16")
    expect(x.locator("details.grid")).to_have_attribute("data-painted", "2")
    page.evaluate("longTasks.length = 0")
    renders = page.evaluate("""async () => {
        const x = document.querySelector('latent-explorer');
        const s = x.shadowRoot.querySelector('.axis input[type=range]');
        const grid = x.shadowRoot.querySelector('details.grid');
        let painted = 0;
        grid.addEventListener('grid-render', () => painted++);
        for (let i = 0; i < 300; i++) {
            s.value = Number(s.min) + ((i % 30) / 29) * (Number(s.max) - Number(s.min));
            const shown = new Promise((ok) => x.addEventListener('latent-render', ok, { once: true }));
            s.dispatchEvent(new Event('input', { bubbles: true }));
            await shown;
        }
        const last = new Promise((ok) => grid.addEventListener('grid-render', ok, { once: true }));
        x.point = x.point.map((v, i) => (i === 0 ? 0.5 : v));
        await last;
        return painted;
    }""")
    assert renders >= 1
    long_tasks = page.evaluate("longTasks")
    assert [t for t in long_tasks if t > 50] == [], long_tasks
    point = page.evaluate("document.querySelector('latent-explorer').point")
    shown = np.array(page.evaluate(CANVAS, "canvas.main"))
    want = np.round(np.clip(python_decode(site / "models" / "test-digits", [point])[0].ravel(), 0, 1) * 255)
    assert np.abs(shown - want).max() <= 1
    assert console_errors == []


def hold(page, pattern):
    """Hold back requests matching `pattern` (from the page or its worker) until released."""
    held, released = [], threading.Event()

    def handler(route):
        if released.is_set():
            route.continue_()
        else:
            held.append(route)
    page.route(pattern, handler)

    def release():
        released.set()
        for r in held:
            r.continue_()
    return held, release


def test_the_poster_shows_before_the_graphs_and_the_live_decode_replaces_it_exactly(page, http_server, site,
                                                                                   console_errors):
    bundle = site / "models" / "test-digits"
    m = manifest(bundle)
    poster = np.frombuffer(base64.b64decode(m["poster"]["pixels"]), np.uint8)
    # the poster is the decode of the first point, rounded as the canvas rounds
    want = np.floor(np.clip(python_decode(bundle, [m["poster"]["point"]])[0].ravel(), 0, 1) * 255 + 0.5)
    assert np.array_equal(poster, want)
    held, release = hold(page, "**/models/test-digits/decoder.onnx")
    embed(page, http_server, '<latent-explorer src="/models/test-digits/manifest.json"></latent-explorer>')
    page.add_init_script(EVENTS)
    page.goto(http_server.base_url + "embed.html")
    page.wait_for_function("window.events?.includes('latent-poster')")
    for _ in range(100):  # the worker asks for the graphs once the page has the manifest
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "the decoder's download was not held"
    page.wait_for_timeout(200)
    assert page.evaluate("events") == ["latent-poster"]  # no live decode yet: the graph is not there
    assert np.array_equal(page.evaluate(CANVAS, "canvas.main"), poster)
    release()
    assert wait_ready(page) is True
    assert page.evaluate("events") == ["latent-poster", "latent-render"]
    assert np.array_equal(page.evaluate(CANVAS, "canvas.main"), poster)  # the live decode: the same pixels
    assert console_errors == []


def test_a_shared_point_is_not_covered_by_the_poster(page, http_server, site, console_errors):
    """With sync-url and a point in the page's URL, the poster (the mean's decode) is not that
    point's: it is not shown, and the first paint is the live decode of the shared point."""
    Z = manifest(site / "models" / "test-digits")["latent"]["size"]
    embed(page, http_server, '<latent-explorer sync-url src="/models/test-digits/manifest.json"></latent-explorer>')
    page.goto(http_server.base_url + "embed.html")
    assert wait_ready(page) is True
    page.evaluate("() => { const x = document.querySelector('latent-explorer'); x.point = x.point.map(() => 1); }")
    page.wait_for_function("location.hash.length > 1")
    shared = page.evaluate("location.href")
    page.add_init_script(EVENTS)
    page.goto("about:blank")
    page.goto(shared)
    assert wait_ready(page) is True
    assert page.evaluate("events")[0] == "latent-render" and "latent-poster" not in page.evaluate("events")
    assert page.evaluate("document.querySelector('latent-explorer').point") == [1.0] * Z
    assert console_errors == []



RUNTIMES = {"worker": "{}", "page": "{ worker: null }", "proxy": "{ worker: null, proxy: true }"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_drawing_pad_shows_the_decode_of_what_it_encoded_in_every_runtime(runtime, page, http_server, digits_bundle,
                                                                               console_errors):
    """A pen move is one job for the host (encode, then decode what it encoded): in the worker, on
    the page's thread and through onnxruntime's proxy worker, the point is Python's encoding of the
    pad and the canvas Python's decode of that point."""
    m = manifest(digits_bundle)
    H, W = m["image"]["height"], m["image"]["width"]
    page.route(http_server.base_url + "configured.html", lambda route: route.fulfill(
        content_type="text/html", headers=ISOLATED,
        body=f"""<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">
<script type="module">
  import {{ configureRuntime }} from '/core/runtime.js';
  configureRuntime({RUNTIMES[runtime]});
  await import('/latent-explorer.js');
</script><latent-explorer src="{DIGITS}"></latent-explorer>"""))
    page.add_init_script(RECORD)
    page.goto(http_server.base_url + "configured.html")
    assert wait_ready(page) is True
    assert len(decoding_workers(page)) == (1 if runtime == "worker" else 0)
    assert stroke(page, [(0.3, 0.2), (0.7, 0.2), (0.35, 0.85)]) >= 2
    last = page.evaluate("changes.at(-1)")
    assert last["source"] == "drawing"
    pixels = np.array(last["input"], np.float32).reshape(1, H, W)
    point = ort_encode(digits_bundle, pixels)
    np.testing.assert_allclose(last["point"], point[0], atol=1e-5)
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, point)[0], atol=1 / 255 + 1e-6)
    assert console_errors == []
