"""Full points in the browser (bundle format 2), image side: examples decode exactly, every
coordinate is reachable (sliders keep the rest, Random draws all Z at a temperature), the
encoder runs in Chromium as in Python, the drawing pad's picture is what the encoder reads
and what is shown is its decode, the URL keeps a point exactly, and events reach the page.
Every comparison is against Python onnxruntime on the same files the page loaded."""
import base64
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, SHIPPED
from test_browser import shown_rgba

from exporter.export.graphs import session

pytestmark = pytest.mark.browser

ISOLATED = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
DIGITS = "/models/test-digits/manifest.json"
FASHION_MNIST = "/usr/share/datasets/fashion-mnist"
SHIPPED_IMAGES = [n for n in SHIPPED if json.loads((ROOT / "models" / n / "manifest.json").read_text())["kind"] == "image"]

# Collects the element's events as plain data (and the pad's pixels for 'drawing' and 'file').
RECORD = """window.changes = []; window.renders = [];
document.addEventListener('latent-change', (e) => changes.push({ point: e.detail.point, source: e.detail.source,
  input: e.detail.input instanceof Float32Array ? Array.from(e.detail.input) : e.detail.input ?? null }));
document.addEventListener('latent-render', (e) => renders.push({ point: e.detail.point, source: e.detail.source }));"""
# True once the last point set has been painted and nothing newer is on its way.
SETTLED = """() => { const x = document.querySelector('latent-explorer');
  const r = window.renders.at(-1); return !!r && !x._drawing && r.point.every((v, i) => v === x.point[i]); }"""


def embed(page, server, body, path="embed.html"):
    """A page holding `body` and the element module, served like a blog post (COOP/COEP)."""
    page.route(server.base_url + path, lambda route: route.fulfill(
        content_type="text/html", headers=ISOLATED,
        body=f'<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">'
             f'<script type="module" src="/latent-explorer.js"></script><body>{body}</body>'))
    page.add_init_script(RECORD)
    return server.base_url + path


def open_element(page, server, src=DIGITS, attrs="", hash_=""):
    url = embed(page, server, f'<latent-explorer {attrs} src="{src}"></latent-explorer>')
    page.goto(url + hash_)
    return wait_ready(page)


def wait_ready(page):
    # the demo page adds its element only once it has read models/index.json: wait for both
    page.wait_for_function("!!customElements.get('latent-explorer') && !!document.querySelector('latent-explorer')")
    return page.evaluate("document.querySelector('latent-explorer').ready.then(() => true, (e) => e.message)")


def manifest(bundle):
    return json.loads((bundle / "manifest.json").read_text())


def ort_decode(bundle, coords):
    return session(bundle / "decoder.onnx").run(None, {"coords": np.asarray(coords, np.float32)})[0]


def ort_encode(bundle, pixels):
    return session(bundle / "encoder.onnx").run(None, {"pixels": np.asarray(pixels, np.float32)})[0]


def main_canvas(page):
    """The decoded image on show, as grey levels in [0, 1] (the red channel of the main picture)."""
    return shown_rgba(page)[..., 0] / 255


def pad_canvas(page):
    """The drawing pad's own pixels (grey levels 0..255, full resolution)."""
    got = page.evaluate("""() => {
        const c = document.querySelector('latent-explorer').shadowRoot.querySelector('canvas.pad-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.height, c.width, Array.from(d).filter((_, i) => i % 4 === 0)];
    }""")
    return np.array(got[2], dtype=np.float64).reshape(got[0], got[1])


# --- examples are exact -------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["test-digits", "test-conv", *SHIPPED_IMAGES])
def test_every_anchor_decodes_as_python_onnxruntime(name, page, http_server, console_errors):
    bundle = http_server.root / "models" / name
    m = manifest(bundle)
    assert open_element(page, http_server, f"/models/{name}/manifest.json") is True
    coords = [a["coords"] for a in m["anchors"]]
    assert all(len(c) == m["latent"]["size"] for c in coords)
    got = page.evaluate("async (b) => (await document.querySelector('latent-explorer').decode(b)).map((r) => Array.from(r))",
                        coords)
    want = ort_decode(bundle, coords).reshape(len(coords), -1)
    diff = np.abs(np.array(got) - want).max()
    print(f"{name}: {len(coords)} anchors, browser vs python onnxruntime: max abs diff {diff:.3g}")
    assert diff <= 1e-5
    assert console_errors == []


def test_picking_an_example_shows_exactly_it_and_sliders_move_from_there(page, http_server, digits_bundle,
                                                                       console_errors):
    m = manifest(digits_bundle)
    assert open_element(page, http_server) is True
    picker = page.get_by_role("combobox", name="example", exact=True)
    for i in (0, 7, len(m["anchors"]) - 1):
        picker.select_option(index=i + 1)
        page.wait_for_function(SETTLED)
        assert page.evaluate("document.querySelector('latent-explorer').point") == m["anchors"][i]["coords"]
        assert page.evaluate("changes.at(-1).source") == "example"
        np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, [m["anchors"][i]["coords"]])[0], atol=1 / 255)
    anchor = m["anchors"][len(m["anchors"]) - 1]["coords"]
    page.get_by_label("PC3").focus()
    page.keyboard.press("ArrowRight")
    point = page.evaluate("document.querySelector('latent-explorer').point")
    assert point[2] != anchor[2]
    assert point[:2] + point[3:] == anchor[:2] + anchor[3:]  # every other coordinate, exactly
    assert page.evaluate("changes.at(-1).source") == "slider"
    assert picker.input_value() == ""  # the point is no longer the example
    assert console_errors == []


def test_interpolation_runs_between_the_two_full_points(page, http_server, digits_bundle, console_errors):
    m = manifest(digits_bundle)
    assert open_element(page, http_server) is True
    x = page.locator("latent-explorer")
    x.locator(".interpolate summary").click()
    x.get_by_role("combobox", name="interpolate from").select_option("3")
    x.get_by_role("combobox", name="interpolate to").select_option("11")
    position = x.get_by_label("position between the two ends")
    position.focus()
    page.keyboard.press("End")
    assert page.evaluate("document.querySelector('latent-explorer').point") == m["anchors"][11]["coords"]
    assert page.evaluate("changes.at(-1).source") == "interpolate"
    page.keyboard.press("Home")
    assert page.evaluate("document.querySelector('latent-explorer').point") == m["anchors"][3]["coords"]
    page.wait_for_function("document.querySelector('latent-explorer').shadowRoot"
                           ".querySelectorAll('.interpolate .strip figure').length === 9")  # a filmstrip
    rows = page.evaluate("""() => [...document.querySelector('latent-explorer').shadowRoot
        .querySelectorAll('.interpolate canvas')].map((c) => Array.from(
          c.getContext('2d').getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 4 === 0))""")
    ends = ort_decode(digits_bundle, [m["anchors"][3]["coords"], m["anchors"][11]["coords"]]).reshape(2, -1)
    np.testing.assert_allclose(np.array(rows[0]) / 255, ends[0], atol=1 / 255)
    np.testing.assert_allclose(np.array(rows[-1]) / 255, ends[1], atol=1 / 255)
    assert console_errors == []


# --- any point is reachable -------------------------------------------------------------------

def test_random_draws_every_coordinate_at_the_temperature(page, http_server, digits_bundle, console_errors):
    m = manifest(digits_bundle)
    std = np.array(m["pca"]["std"])
    assert open_element(page, http_server) is True
    temperature = page.get_by_label("temperature")
    draws = {}
    for t in (0, 1, 2):
        temperature.fill(str(t))
        draws[t] = np.array(page.evaluate("""(n) => {
            const x = document.querySelector('latent-explorer');
            const button = [...x.shadowRoot.querySelectorAll('button')].find((b) => b.textContent === 'Random');
            return Array.from({ length: n }, () => { button.click(); return x.point; });
        }""", 400))
    assert (draws[0] == 0).all()
    assert page.evaluate("changes.at(-1).source") == "random"
    for t in (1, 2):
        ratio = draws[t].std(0) / std
        print(f"temperature {t}: spread / pca.std per coordinate {np.round(ratio, 2)}")
        assert (draws[t] != 0).all()                    # all Z coordinates, not just the sliders'
        assert np.all(np.abs(ratio - t) < 0.2 * t)      # 400 draws: the estimate is within ~4%
        assert np.all(np.abs(draws[t].mean(0)) < 0.25 * t * std)
    assert page.locator("latent-explorer output[for=temperature]").inner_text() == "2.00"
    assert console_errors == []


# --- encoders in the browser --------------------------------------------------------------------

def real_test_images(m, n=300):
    """n real test images of the bundle's dataset (skip, saying why, where they are absent)."""
    from exporter.data import load_images
    name = m["dataset"]["name"]
    if name == "fashion-mnist" and not Path(FASHION_MNIST).is_dir():
        pytest.skip(f"FashionMNIST not installed in {FASHION_MNIST} (apt-get install dataset-fashion-mnist)")
    if name not in ("digits", "fashion-mnist", "shapes"):
        pytest.skip(f"no test images known for dataset {name!r}")
    return load_images(name).x_test[:n]


@pytest.mark.parametrize("name", ["test-digits", "test-conv", *SHIPPED_IMAGES])
def test_encoder_matches_python_onnxruntime_on_real_test_images(name, page, http_server, console_errors):
    bundle = http_server.root / "models" / name
    m = manifest(bundle)
    if "encoder" not in m["graphs"]:
        pytest.fail(f"{name} has no encoder graph: re-export it (format 2 bundles of our runs have one)")
    x = real_test_images(m)
    shape = (m["image"]["height"], m["image"]["width"]) + ((3,) if m["image"].get("channels") == 3 else ())
    assert len(x) >= 200 and x.shape[1:] == shape
    assert open_element(page, http_server, f"/models/{name}/manifest.json") is True
    got = np.array(page.evaluate("(b) => document.querySelector('latent-explorer').encode(b)", x.reshape(len(x), -1).tolist()))
    want = ort_encode(bundle, x)
    diff = np.abs(got - want).max()
    print(f"{name}: {len(x)} test images, browser vs python onnxruntime encoder: max abs diff {diff:.3g}")
    assert got.shape == (len(x), m["latent"]["size"]) and diff <= 1e-5
    assert console_errors == []


# --- the drawing pad ---------------------------------------------------------------------------

def stroke(page, points, steps=6):
    """Draw with the mouse through `points` (fractions of the pad), pausing so encodes happen mid-stroke."""
    box = page.locator("latent-explorer canvas.pad-canvas").bounding_box()
    at = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*at[0])
    page.mouse.down()
    for p in at[1:]:
        page.mouse.move(*p, steps=steps)
        page.wait_for_timeout(30)
    drawn_before_up = page.evaluate("changes.filter((c) => c.source === 'drawing').length")
    page.mouse.up()
    page.wait_for_function(SETTLED)
    page.wait_for_timeout(200)
    page.wait_for_function(SETTLED)
    return drawn_before_up


def test_drawing_pad_shows_the_decode_of_the_drawing(page, http_server, digits_bundle, console_errors):
    m = manifest(digits_bundle)
    H, W = m["image"]["height"], m["image"]["width"]
    assert open_element(page, http_server) is True
    assert page.evaluate("""getComputedStyle(document.querySelector('latent-explorer').shadowRoot
        .querySelector('canvas.pad-canvas')).touchAction""") == "none"
    during = stroke(page, [(0.3, 0.2), (0.7, 0.2), (0.35, 0.85)])
    assert during >= 2, "the point should follow the pen while drawing, not only at the end"
    last = page.evaluate("changes.at(-1)")
    assert last["source"] == "drawing"
    pixels = np.array(last["input"], np.float32).reshape(H, W)
    # The encoder's input is exactly the pad's area average (light ink on a dark ground).
    pad = pad_canvas(page)
    s = pad.shape[0] // H
    assert pad.shape == (s * H, s * W) and s > 1
    np.testing.assert_allclose(pixels, pad.reshape(H, s, W, s).mean((1, 3)) / 255, atol=1e-6)
    assert pixels.max() > 0.5 and pixels.min() == 0 and np.median(pixels) < 0.5
    # The point is the Python encoder's, and the canvas shows the Python decoder's image of it.
    point = ort_encode(digits_bundle, pixels[None])
    np.testing.assert_allclose(last["point"], point[0], atol=1e-5)
    assert page.evaluate("document.querySelector('latent-explorer').point") == last["point"]
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, point)[0], atol=1 / 255 + 1e-6)
    # After Clear and a new stroke (the pad re-reads only the blocks a stroke touched), still exact.
    page.locator("latent-explorer").get_by_role("button", name="Clear").click()
    stroke(page, [(0.6, 0.7), (0.2, 0.4)])
    again = np.array(page.evaluate("changes.at(-1)")["input"], np.float32).reshape(H, W)
    np.testing.assert_allclose(again, pad_canvas(page).reshape(H, s, W, s).mean((1, 3)) / 255, atol=1e-6)
    assert again[:, :W // 2].max() > 0.5 and not np.array_equal(again, pixels)
    # Your drawing joins both interpolation pickers.
    for name in ("interpolate from", "interpolate to"):
        options = page.locator(f"latent-explorer select[aria-label='{name}'] option").all_text_contents()
        assert options[-1] == "your drawing" and len(options) == len(m["anchors"]) + 1
    assert console_errors == []


def test_brush_size_changes_the_stroke_and_clear_resets(page, http_server, console_errors):
    assert open_element(page, http_server) is True
    brush = page.locator("latent-explorer").get_by_label("brush")
    clear = page.locator("latent-explorer").get_by_role("button", name="Clear")
    ink = {}
    for size in ("min", "max"):
        clear.click()
        assert pad_canvas(page).max() == 0  # the dark ground, everywhere
        brush.evaluate(f"(b) => {{ b.value = b.{size}; }}")
        stroke(page, [(0.2, 0.5), (0.8, 0.5)])
        ink[size] = pad_canvas(page).sum() / 255
        widths = (pad_canvas(page) > 127).sum(0)
        print(size, "brush: ink", ink[size], "stroke width in pad pixels", widths.max())
    assert ink["max"] > 2 * ink["min"] > 0
    point = page.evaluate("document.querySelector('latent-explorer').point")
    clear.click()
    assert pad_canvas(page).max() == 0
    assert page.evaluate("document.querySelector('latent-explorer').point") == point  # Clear clears the pad only
    assert console_errors == []


DROP = """async ([background, ink, type, how = 'drop']) => {
    const c = Object.assign(document.createElement('canvas'), { width: 96, height: 64 });
    const g = c.getContext('2d');
    g.fillStyle = background; g.fillRect(0, 0, 96, 64);
    g.fillStyle = ink; g.fillRect(40, 8, 16, 48);                       // a thick "1"
    const blob = await new Promise((ok) => c.toBlob(ok, 'image/png'));
    const data = new DataTransfer();
    const text = type === 'text';
    data.items.add(new File([text ? 'not a picture' : blob], 'x', { type: text ? 'text/plain' : 'image/png' }));
    const root = document.querySelector('latent-explorer').shadowRoot;
    const pad = root.querySelector('canvas.pad-canvas');
    if (how === 'drop') pad.dispatchEvent(new DragEvent('drop', { dataTransfer: data, bubbles: true, cancelable: true }));
    if (how === 'paste') pad.dispatchEvent(new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }));
    if (how === 'open') {
      const input = root.querySelector('.pad input[type=file]');
      input.files = data.files;
      input.dispatchEvent(new Event('change', { bubbles: true }));
    }
}"""


@pytest.mark.parametrize("background, ink, inverted, how", [
    ("#fff", "#000", True, "drop"), ("#000", "#fff", False, "drop"), ("#fff", "#000", True, "paste"),
    ("#000", "#fff", False, "open")], ids=["dark-on-light", "light-on-dark", "pasted", "opened"])
def test_a_dropped_image_is_greyed_resized_and_if_light_inverted(background, ink, inverted, how, page, http_server,
                                                                  digits_bundle, console_errors):
    assert open_element(page, http_server) is True
    page.evaluate(DROP, [background, ink, "png", how])
    page.wait_for_function("changes.some((c) => c.source === 'file')")
    page.wait_for_function(SETTLED)
    last = page.evaluate("changes.at(-1)")
    pixels = np.array(last["input"], np.float32).reshape(8, 8)
    print(np.round(pixels, 2))
    assert pixels[:, :2].max() < 0.05 and pixels[2:6, 3:5].min() > 0.6  # light ink on a dark ground either way
    np.testing.assert_allclose(last["point"], ort_encode(digits_bundle, pixels[None])[0], atol=1e-5)
    note = page.locator("latent-explorer .pad .note")
    assert note.is_visible() and ("inverted" in note.inner_text()) == inverted
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, [last["point"]])[0], atol=1 / 255 + 1e-6)
    assert console_errors == []


def test_a_dropped_file_that_is_not_an_image_says_so(page, http_server, console_errors):
    assert open_element(page, http_server) is True
    page.evaluate(DROP, ["#fff", "#000", "text"])
    note = page.locator("latent-explorer .pad .note")
    note.wait_for()
    assert note.inner_text() == "Could not use that file: not an image file."
    assert page.evaluate("changes.filter((c) => c.source === 'file').length") == 0
    assert console_errors == []


# --- shareable state -----------------------------------------------------------------------------

def b64(point):
    return base64.urlsafe_b64encode(np.asarray(point, "<f4").tobytes()).decode().rstrip("=")


def test_a_point_comes_back_exactly_from_the_url(page, http_server, digits_bundle, console_errors):
    m = manifest(digits_bundle)
    Z = m["latent"]["size"]
    point = (np.random.default_rng(5).standard_normal(Z) * np.array(m["pca"]["std"]) * 1.7).tolist()  # float64
    assert open_element(page, http_server, attrs="sync-url") is True
    assert page.evaluate("location.hash") == ""  # opening a page does not rewrite its address
    entries = page.evaluate("history.length")
    page.evaluate("(p) => { document.querySelector('latent-explorer').point = p; }", point)
    page.wait_for_function("location.hash.length > 1")
    assert page.evaluate("location.hash") == f"#le-test-digits={b64(point)}"
    assert page.evaluate("history.length") == entries  # replaceState: no history entry per move
    page.reload()
    assert wait_ready(page) is True
    restored = page.evaluate("document.querySelector('latent-explorer').point")
    assert restored == np.float32(point).astype(np.float64).tolist()  # exactly the float32 values
    assert page.evaluate("changes[0].source") == "url"
    page.wait_for_function(SETTLED)
    np.testing.assert_allclose(main_canvas(page), ort_decode(digits_bundle, [restored])[0], atol=1 / 255 + 1e-6)
    assert page.locator("latent-explorer .share .note").is_hidden()
    assert console_errors == []


def test_two_elements_keep_their_own_points_in_the_url(page, http_server, console_errors):
    url = embed(page, http_server, '<latent-explorer id="a" sync-url src="/models/test-digits/manifest.json"></latent-explorer>'
                                   '<latent-explorer id="b" sync-url src="/models/test-conv/manifest.json"></latent-explorer>')
    a, b = [0.5] * 8, [-0.25] * 6
    page.goto(f"{url}#intro&le-test-conv={b64(b)}")
    page.evaluate("Promise.all([a.ready, b.ready])")
    assert page.evaluate("b.point") == b and page.evaluate("a.point") == [0] * 8
    page.evaluate("(p) => { a.point = p; }", a)
    page.wait_for_function("location.hash.includes('le-test-digits')")
    assert page.evaluate("location.hash") == f"#intro&le-test-conv={b64(b)}&le-test-digits={b64(a)}"
    page.reload()
    page.evaluate("Promise.all([a.ready, b.ready])")
    assert (page.evaluate("a.point"), page.evaluate("b.point")) == (a, b)
    assert console_errors == []


NAN = np.frombuffer(b"\x00\x00\xc0\x7f", "<f4")[0]
BAD_HASHES = {  # id: (hash value for le-test-digits, what the note must say)
    "garbage": ("!!!not-base64!!!", "characters"),
    "truncated": (b64([0.5] * 8)[:-2], "characters"),
    "wrong-length": (b64([0.5] * 7), "characters, a point of 8 numbers has 43"),
    "nan": (b64([0.5] * 7 + [NAN]), "number 8 is NaN"),
    "infinity": (b64([np.inf] + [0.5] * 7), "number 1 is Infinity"),
    "oversized": ("A" * 200_000, "200,000 characters"),
    "script": ("<script>alert(1)</script>", "characters"),
    "nul": ("%00" * 14 + "A", "not base64url"),
    "padding": (b64([0.5] * 8)[:-3] + "A==", "not base64url"),
    "trailing-bits": (b64([0.5] * 8)[:-1] + "B", "not base64url"),
    "no-value": (None, "no value"),
}


@pytest.mark.parametrize("case", BAD_HASHES)
def test_a_bad_url_point_gives_the_default_point_and_a_note(case, page, http_server, console_errors):
    value, says = BAD_HASHES[case]
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    entry = "le-test-digits" if value is None else f"le-test-digits={value}"
    assert open_element(page, http_server, attrs="sync-url", hash_=f"#{entry}") is True
    assert page.evaluate("document.querySelector('latent-explorer').point") == [0] * 8
    assert page.evaluate("changes[0].source") == "reset"
    note = page.locator("latent-explorer .share .note")
    assert note.is_visible()
    text = note.inner_text()
    print(case, "->", text[:200])
    assert text.startswith("The link's point for test-digits was ignored (") and says in text
    assert text.endswith("showing the default point.") and len(text) < 200
    assert page.locator("img, script:not([type=module])").count() == 0 and dialogs == []
    assert console_errors == []


def test_without_sync_url_the_url_is_neither_read_nor_written(page, http_server, console_errors):
    assert open_element(page, http_server, hash_=f"#le-test-digits={b64([0.5] * 8)}") is True
    assert page.evaluate("document.querySelector('latent-explorer').point") == [0] * 8
    page.evaluate("document.querySelector('latent-explorer').point = new Array(8).fill(1)")
    page.wait_for_timeout(400)
    assert page.evaluate("location.hash") == f"#le-test-digits={b64([0.5] * 8)}"
    assert page.locator("latent-explorer").get_by_role("button", name="Copy link").count() == 0
    assert console_errors == []


def test_copy_link_copies_the_url_of_this_point(page, http_server, console_errors):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    assert open_element(page, http_server, attrs="sync-url") is True
    page.evaluate("document.querySelector('latent-explorer').point = [1, 0, 0, 0, 0, 0, 0, -1]")
    page.locator("latent-explorer").get_by_role("button", name="Copy link").click()  # at once: no waiting for the hash
    page.wait_for_function("document.querySelector('latent-explorer').shadowRoot.querySelector('.share .note').textContent")
    copied = page.evaluate("navigator.clipboard.readText()")
    assert copied == page.evaluate("location.href") and copied.endswith(f"#le-test-digits={b64([1, 0, 0, 0, 0, 0, 0, -1])}")
    assert "copied" in page.locator("latent-explorer .share .note").inner_text()
    assert console_errors == []


def test_copy_link_falls_back_to_a_selected_field(page, http_server, console_errors):
    assert open_element(page, http_server, attrs="sync-url") is True
    page.evaluate("""() => { Object.defineProperty(navigator, 'clipboard', { configurable: true,
        value: { writeText: () => Promise.reject(new DOMException('denied', 'NotAllowedError')) } }); }""")
    page.evaluate("document.querySelector('latent-explorer').point = [0, 1, 0, 0, 0, 0, 0, 0]")
    page.locator("latent-explorer").get_by_role("button", name="Copy link").click()
    field = page.locator("latent-explorer").get_by_label("link to this point")
    field.wait_for()
    assert field.input_value() == page.evaluate("location.href")
    assert field.input_value().endswith(f"#le-test-digits={b64([0, 1, 0, 0, 0, 0, 0, 0])}")
    assert field.evaluate("(f) => [f.selectionStart, f.selectionEnd, f.getRootNode().activeElement === f]") == [
        0, len(field.input_value()), True]
    assert console_errors == []


# --- events reach the page ---------------------------------------------------------------------

def test_events_bubble_to_the_document_across_the_shadow_boundary(page, http_server, console_errors):
    assert open_element(page, http_server) is True
    page.evaluate("""() => { window.seen = [];
        for (const type of ['latent-change', 'latent-render']) document.addEventListener(type, (e) => seen.push({
          type, bubbles: e.bubbles, composed: e.composed, target: e.target.tagName, source: e.detail.source,
          alias: JSON.stringify(e.detail.coords) === JSON.stringify(e.detail.point) })); }""")
    x = page.locator("latent-explorer")
    x.get_by_label("PC1").focus()
    page.keyboard.press("ArrowLeft")
    x.get_by_role("combobox", name="example", exact=True).select_option(index=2)
    x.get_by_role("button", name="Random").click()
    x.get_by_role("button", name="Reset").click()
    page.evaluate("document.querySelector('latent-explorer').point = new Array(8).fill(0.1)")
    x.locator(".interpolate summary").click()
    x.get_by_label("position between the two ends").focus()
    page.keyboard.press("End")
    stroke(page, [(0.4, 0.3), (0.5, 0.7)])
    page.wait_for_function(SETTLED)
    seen = page.evaluate("seen")
    changes = [e for e in seen if e["type"] == "latent-change"]
    assert [e["source"] for e in changes][:6] == ["slider", "example", "random", "reset", "api", "interpolate"]
    assert {e["source"] for e in changes[6:]} == {"drawing"}
    assert {e["source"] for e in seen if e["type"] == "latent-render"} <= {e["source"] for e in changes}
    assert any(e["type"] == "latent-render" for e in seen)
    assert all(e["bubbles"] and e["composed"] and e["target"] == "LATENT-EXPLORER" and e["alias"] for e in seen)
    assert console_errors == []


def test_a_version_1_bundle_says_to_re_export_it(page, http_server):
    m = manifest(http_server.root / "models" / "test-digits")
    m["format_version"] = 1
    page.route(re.compile(r".*/v1/manifest\.json$"), lambda r: r.fulfill(body=json.dumps(m), content_type="application/json"))
    message = open_element(page, http_server, "/models/test-digits/v1/manifest.json")
    status = page.locator("latent-explorer .status")
    assert message == ("manifest.json: bundle format version 1; this element reads version 2 "
                       "(re-export the bundle with latent-explorer >= 0.2)")
    assert status.is_visible() and "re-export the bundle with latent-explorer >= 0.2" in status.inner_text()


def test_the_readme_javascript_example_runs(page, http_server, console_errors):
    block = re.findall(r"```js\n(.*?)```", (ROOT / "README.md").read_text(), re.S)[0]
    assert open_element(page, http_server) is True
    got = page.evaluate(f"async () => {{ {block}; return {{ point: el.point, pixels: pixels.length, mine: mine.length }}; }}")
    assert got["point"][0] == 1.5 and got["pixels"] == 64 and got["mine"] == 8
    assert page.evaluate("changes.at(-1).source") == "api"
    assert console_errors == []


def test_the_demo_page_fits_a_phone(page, http_server, console_errors):
    """At 360 px wide nothing sticks out sideways: pad, image, sliders and interpolation wrap."""
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(http_server.base_url + "?model=test-digits")
    assert wait_ready(page) is True
    page.locator("latent-explorer .interpolate summary").click()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    for part in ("canvas.pad-canvas", "canvas.main", ".axis input", ".interpolate select"):
        box = page.locator(f"latent-explorer {part}").first.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 360, part
    assert console_errors == []


WORKER = """import { loadModel } from './core/model.js';
onmessage = async ({ data }) => {
  try {
    const model = await loadModel(data.url);
    const decoded = await model.decode(data.points);
    const encoded = await model.encoder.encode(Float32Array.from(data.pixels), 1);
    postMessage({ decoded: decoded.map((r) => Array.from(r)), encoded: Array.from(encoded) });
  } catch (e) { postMessage({ error: String(e) }); }
};"""


def test_core_runs_in_a_web_worker(page, http_server, digits_bundle, console_errors):
    """core/ has no DOM: a module worker loads a bundle, decodes and encodes, as Python does."""
    page.route(http_server.base_url + "probe-worker.js", lambda r: r.fulfill(
        body=WORKER, content_type="text/javascript", headers=ISOLATED))
    embed(page, http_server, "")
    page.goto(http_server.base_url + "embed.html")
    points = [[0.0] * 8, [1.0, -1.0, 0.5, 0.0, 0.0, 0.25, 0.0, -0.5]]
    pixels = np.linspace(0, 1, 64, dtype=np.float32)
    got = page.evaluate("""([points, pixels]) => new Promise((ok) => {
        const w = new Worker('/probe-worker.js', { type: 'module' });
        w.onmessage = (e) => ok(e.data);
        w.onerror = (e) => ok({ error: e.message ?? 'worker error' });
        w.postMessage({ url: new URL('/models/test-digits/manifest.json', location.href).href, points, pixels });
    })""", [points, pixels.tolist()])
    assert "error" not in got, got["error"]
    np.testing.assert_allclose(np.array(got["decoded"]), ort_decode(digits_bundle, points).reshape(2, -1), atol=1e-5)
    np.testing.assert_allclose(got["encoded"], ort_encode(digits_bundle, pixels.reshape(1, 8, 8))[0], atol=1e-5)
    assert console_errors == []
