"""The runtime: decoding runs in a Web Worker (the page's thread only paints), and a bundle's
poster shows the first point before the graphs have loaded, then the live decode replaces it
pixel for pixel (issue: the runtime)."""
import base64
import threading

import numpy as np
import pytest
from playwright.sync_api import expect
from test_browser import on_screen, python_decode, shown_rgba
from test_points_browser import (
    DIGITS,
    ISOLATED,
    RECORD,
    SETTLED,
    embed,
    main_canvas,
    manifest,
    ort_decode,
    ort_encode,
    stroke,
    wait_ready,
)

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
    assert painted_by(page) == "worker"
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
    shown = shown_rgba(page)[..., 0].ravel()
    want = np.round(np.clip(python_decode(site / "models" / "test-digits", [point])[0].ravel(), 0, 1) * 255)
    assert np.abs(shown - want).max() <= 1
    assert np.array_equal(on_screen(page)[..., 0].ravel(), shown)  # the worker's frame reached the screen
    assert console_errors == []


def painted_by(page, selector="latent-explorer"):
    """Who paints the main picture: 'worker' once the page has handed its canvas over (a 2-D
    context can then no longer be taken on the page), else 'page'."""
    return page.evaluate("""(sel) => {
        const c = document.querySelector(sel).shadowRoot.querySelector('canvas.main');
        try { c.getContext('2d'); return 'page'; } catch (e) { return e.name === 'InvalidStateError' ? 'worker' : e.name; }
    }""", selector)


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
    assert np.array_equal(shown_rgba(page)[..., 0].ravel(), poster)
    before = on_screen(page)
    assert np.array_equal(before[..., 0].ravel(), poster)
    release()
    assert wait_ready(page) is True
    assert page.evaluate("events") == ["latent-poster", "latent-render"]
    assert painted_by(page) == "worker"
    assert np.array_equal(shown_rgba(page)[..., 0].ravel(), poster)  # the live decode: the same pixels
    assert np.array_equal(on_screen(page), before)                    # and on the screen: no jump
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



RUNTIMES = {"worker": "{}", "worker-2-threads": "{ threads: 2 }", "page": "{ worker: null }",
            "proxy": "{ worker: null, proxy: true }"}


@pytest.mark.parametrize("runtime", RUNTIMES)
def test_the_drawing_pad_shows_the_decode_of_what_it_encoded_in_every_runtime(runtime, page, http_server, digits_bundle,
                                                                               console_errors):
    """A pen move is one job for the host (encode, then decode what it encoded): in the worker (with
    1 wasm thread or 2), on the page's thread and through onnxruntime's proxy worker, the point is
    Python's encoding of the pad and the canvas Python's decode of that point."""
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
    worker = runtime.startswith("worker")
    assert len(decoding_workers(page)) == (1 if worker else 0)
    assert painted_by(page) == ("worker" if worker else "page")
    assert stroke(page, [(0.3, 0.2), (0.7, 0.2), (0.35, 0.85)]) >= 2
    last = page.evaluate("changes.at(-1)")
    assert last["source"] == "drawing"
    pixels = np.array(last["input"], np.float32).reshape(1, H, W)
    point = ort_encode(digits_bundle, pixels)
    np.testing.assert_allclose(last["point"], point[0], atol=1e-5)
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, point)[0], atol=1 / 255 + 1e-6)
    np.testing.assert_array_equal(on_screen(page)[..., 0] / 255, main_canvas(page))  # what the screen shows
    assert console_errors == []


WASM = "/ort/ort-wasm-simd-threaded.wasm"


@pytest.mark.parametrize("page_can", [True, False], ids=["page-compiles", "worker-compiles"])
def test_the_page_compiles_the_runtime_for_the_worker_or_else_the_worker_does(page_can, page, http_server,
                                                                                digits_bundle, console_errors):
    """With the default runtime files the page compiles onnxruntime's wasm (the browser's code
    cache serves a page's streamed compile on the next visit, not a worker's) and hands the module
    to the worker, which fetches no wasm of its own. Where the page cannot (here the server hands
    the page's request the wasm as text/plain, which a streamed compile refuses), the worker
    fetches and compiles its own. Either way the worker decodes Python's pixels."""
    fetched = []
    wrong_once = [not page_can]

    def serve_wasm(route):
        fetched.append(route.request.url)
        if wrong_once[0]:
            wrong_once[0] = False
            response = route.fetch()
            route.fulfill(response=response, headers={**response.headers, "content-type": "text/plain"})
        else:
            route.continue_()

    page.route("**" + WASM, serve_wasm)
    embed(page, http_server, f'<latent-explorer src="{DIGITS}"></latent-explorer>')
    page.add_init_script(RECORD)
    page.goto(http_server.base_url + "embed.html")
    assert wait_ready(page) is True
    assert len(decoding_workers(page)) == 1 and painted_by(page) == "worker"
    assert len(fetched) == (1 if page_can else 2)  # the page's request, then (if refused) the worker's
    on_page = page.evaluate(f"performance.getEntriesByType('resource').filter((e) => e.name.endsWith('{WASM}')).length")
    assert on_page == 1  # the page fetched it either way
    Z = manifest(digits_bundle)["latent"]["size"]
    point = np.linspace(-1, 1, Z, dtype=np.float32)[None]
    page.evaluate("(p) => { document.querySelector('latent-explorer').point = p; }", point[0].tolist())
    page.wait_for_function(SETTLED)
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, point)[0], atol=1 / 255 + 1e-6)
    assert console_errors == []


def test_the_page_compiles_the_runtime_after_the_poster(page, http_server, digits_bundle, console_errors):
    """The page's thread feeds a streamed compile the wasm's 14 MB as they arrive, so the compile
    starts only once a bundle has opened, in the task after the one that paints the poster: the
    manifest and the poster do not wait behind it (README, Benchmarks)."""
    page.add_init_script("addEventListener('latent-poster', () => { window.posterAt ??= performance.now(); });")
    embed(page, http_server, f'<latent-explorer src="{DIGITS}"></latent-explorer>')
    page.goto(http_server.base_url + "embed.html")
    assert wait_ready(page) is True
    poster = page.evaluate("window.posterAt")
    starts = page.evaluate(f"""performance.getEntriesByType('resource')
        .filter((e) => e.name.endsWith('{WASM}')).map((e) => e.startTime)""")
    assert poster is not None and len(starts) == 1
    assert starts[0] >= poster
    assert console_errors == []


def test_where_the_worker_does_not_start_the_page_decodes_and_fetches_the_runtime_once(page, http_server,
                                                                                       digits_bundle):
    """A worker that fails to start hands decoding to the page's thread, whose onnxruntime loads its
    own wasm: the page does not also compile one for the worker that is gone. The manifest is held
    until the fallback has happened, so the bundle opens after it."""
    page.route("**/core/worker.js", lambda r: r.fulfill(content_type="text/javascript", body="throw new Error('no');"))
    held = []
    page.route("**" + DIGITS, lambda r: held.append(r))
    embed(page, http_server, f'<latent-explorer src="{DIGITS}"></latent-explorer>')
    with page.expect_console_message(lambda m: "the decoding worker did not start" in m.text):
        page.goto(http_server.base_url + "embed.html")
    page.wait_for_function("!!customElements.get('latent-explorer')")
    assert len(held) == 1
    held[0].continue_()
    assert wait_ready(page) is True
    assert painted_by(page) == "page"
    on_page = page.evaluate(f"performance.getEntriesByType('resource').filter((e) => e.name.endsWith('{WASM}')).length")
    assert on_page == 1
    Z = manifest(digits_bundle)["latent"]["size"]
    point = np.linspace(-1, 1, Z, dtype=np.float32)[None]
    page.evaluate("(p) => { document.querySelector('latent-explorer').point = p; }", point[0].tolist())
    page.wait_for_function(SETTLED)
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, point)[0], atol=1 / 255 + 1e-6)


def test_a_point_set_while_the_pad_encodes_ends_on_the_screen_as_the_last_point(page, http_server, digits_bundle,
                                                                                  console_errors):
    """The worker paints the pad's decode when it has it, and the decode of a point the page set
    meanwhile after it; the pad's point then arrives and is the point on show, so the screen must
    go back to its picture (the worker paints it again), not keep the later paint."""
    embed(page, http_server, f'<latent-explorer src="{DIGITS}"></latent-explorer>')
    page.add_init_script(RECORD)
    page.goto(http_server.base_url + "embed.html")
    assert wait_ready(page) is True
    assert painted_by(page) == "worker"
    page.evaluate("""() => {
        const x = document.querySelector('latent-explorer');
        const pad = x.shadowRoot.querySelector('canvas.pad-canvas');
        const r = pad.getBoundingClientRect();
        pad.dispatchEvent(new PointerEvent('pointerdown', { bubbles: true, composed: true, pointerId: 1, isPrimary: true,
            button: 0, buttons: 1, clientX: r.left + 0.4 * r.width, clientY: r.top + 0.5 * r.height }));
        x.point = x.model.manifest.anchors[1].coords; // sent after the pad's job, so decoded and painted after it
        pad.dispatchEvent(new PointerEvent('pointerup', { bubbles: true, composed: true, pointerId: 1, isPrimary: true }));
    }""")
    page.wait_for_function(SETTLED)
    page.wait_for_timeout(300)
    page.wait_for_function(SETTLED)
    sources = [c["source"] for c in page.evaluate("changes")]
    assert sources[-1] == "drawing" and "api" in sources[:sources.index("drawing")], sources  # the pad's point came last
    point = page.evaluate("document.querySelector('latent-explorer').point")
    want = np.round(np.clip(ort_decode(digits_bundle, [point])[0], 0, 1) * 255)
    assert np.abs(on_screen(page)[..., 0] - want).max() <= 1
    assert console_errors == []
