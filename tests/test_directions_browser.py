"""Concept directions, the latent map and the live grid in the browser (issue 10): direction
sliders move the full point along the manifest's unit vector, the map and the grid place and
decode points as Python does, the nearest examples and the typicality meter equal their Python
references in exporter/space/points.py, slerp keeps its ends, and a direction drawn on the pad
is Python's on the same pixels. Every decode is compared with Python onnxruntime on the same
files the page loaded; the shipped bundles (models/) carry the directions, map and typicality."""
import json

import numpy as np
import pytest
from conftest import ROOT, SHIPPED
from test_points_browser import SETTLED, main_canvas, manifest, open_element, ort_decode, ort_encode, pad_canvas, stroke

from exporter.space import points

pytestmark = pytest.mark.browser

DIGITS = "/models/digits/manifest.json"  # shipped: Z = 8, 8 x 8 images, directions, a map of 1,438 examples
X = "document.querySelector('latent-explorer')"


@pytest.fixture(autouse=True)
def _shipped():
    if not {"digits", "fashion-mnist", "fashion-mnist-small"} <= set(SHIPPED):
        pytest.fail("models/digits, models/fashion-mnist and models/fashion-mnist-small must be shipped")


def point(page):
    return np.array(page.evaluate(f"{X}.point"))


def browser_decode(page, coords):
    return np.array(page.evaluate(f"async (b) => (await {X}.decode(b)).map((r) => Array.from(r))",
                                  np.asarray(coords, np.float64).tolist()))


def assert_shows(page, bundle, p):
    """The element's decode of p is Python's (1e-5), and the main canvas shows it (1/255)."""
    page.wait_for_function(SETTLED)
    want = ort_decode(bundle, [p]).reshape(1, -1)
    assert np.abs(browser_decode(page, [p]) - want).max() <= 1e-5
    np.testing.assert_allclose(main_canvas(page).ravel(), want[0], atol=1 / 255 + 1e-6)


def map_rows(bundle):
    m = manifest(bundle)
    raw = np.frombuffer((bundle / m["map"]["file"]).read_bytes(), "<f2")
    return raw.astype(np.float32).reshape(m["map"]["count"], m["latent"]["size"])


# --- direction sliders ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["digits", "fashion-mnist-small"])
def test_a_direction_slider_moves_the_full_point_along_its_unit_vector(name, page, http_server, console_errors):
    bundle = http_server.root / "models" / name
    m = manifest(bundle)
    assert open_element(page, http_server, f"/models/{name}/manifest.json") is True
    page.get_by_role("combobox", name="example", exact=True).select_option(index=3)
    page.wait_for_function(SETTLED)
    start = np.array(m["anchors"][2]["coords"])
    assert (point(page) == start).all()
    directions = [a for a in m["axes"] if "direction" in a]
    assert directions, f"{name} has no direction sliders"
    for axis in directions:
        v = np.array(axis["direction"])
        assert abs(np.linalg.norm(v) - 1) < 1e-9
        before = point(page)
        slider = page.locator("latent-explorer").get_by_label(axis["name"], exact=True)
        slider.focus()
        for _ in range(40):
            page.keyboard.press("ArrowRight")
        after = point(page)
        alpha = (after - before) @ v
        assert alpha > 0.02 * (axis["max"] - axis["min"])
        # coords + alpha * v: nothing else moved (float64 arithmetic in the page)
        np.testing.assert_allclose(after, before + alpha * v, rtol=0, atol=1e-12)
        # the slider reads the point's position along v
        assert slider.evaluate("(s) => s.valueAsNumber") == pytest.approx(after @ v, abs=1e-9)
        assert page.evaluate("changes.at(-1)")["source"] == "slider"
        assert_shows(page, bundle, before + alpha * v)
    assert console_errors == []


def test_the_effects_table_shows_the_measured_effects(page, http_server, console_errors):
    m = manifest(http_server.root / "models" / "fashion-mnist")
    d = m["directions"]
    assert open_element(page, http_server, "/models/fashion-mnist/manifest.json") is True
    table = page.locator("latent-explorer .effects table")
    assert table.locator("thead th").all_text_contents() == ["direction", *d["attributes"]]
    rows = table.locator("tbody tr")
    assert rows.count() == len(d["items"])

    def signed(v):
        return f"{'−' if v < 0 else '+'}{abs(v):.2f}"

    shown_raw = 0
    for i, item in enumerate(d["items"]):
        head = rows.nth(i).locator("th").inner_text()
        assert head.startswith(item["name"])
        assert ("⟂" in head) == bool(item["orthogonal_to"])
        for j, cell in enumerate(rows.nth(i).locator("td").all()):
            now, raw = signed(item["effect"][j]), signed(item["effect_raw"][j])
            want = now if now == raw else f"{now}\nraw {raw}"
            assert cell.inner_text() == want
            shown_raw += now != raw
    assert shown_raw > 0  # brightness is made orthogonal to height: its raw effect differs
    assert console_errors == []


# --- the latent map --------------------------------------------------------------------------------

CLICK = """(c) => c.addEventListener('pointerdown', (e) => {
    const r = c.getBoundingClientRect();
    window.click = { fx: (e.clientX - r.left) / r.width, fy: (e.clientY - r.top) / r.height, ...c.dataset };
  }, { once: true })"""


def click_map(page, fx, fy):
    """Click the map at fractions (fx, fy) of its box; what the page saw: the click and the map's view."""
    canvas = page.locator("latent-explorer canvas.scatter")
    canvas.evaluate(CLICK)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    got = page.evaluate("window.click")
    view = {k: float(got[k]) for k in ("x0", "x1", "y0", "y1")}
    x = view["x0"] + got["fx"] * (view["x1"] - view["x0"])
    y = view["y1"] - got["fy"] * (view["y1"] - view["y0"])
    return x, y, got


def test_a_map_click_moves_the_point_to_those_two_coordinates(page, http_server, console_errors):
    bundle = http_server.root / "models" / "digits"
    m = manifest(bundle)
    assert open_element(page, http_server, DIGITS) is True
    page.locator("latent-explorer canvas.scatter[data-x0]").wait_for()
    page.get_by_role("combobox", name="example", exact=True).select_option(index=5)
    page.wait_for_function(SETTLED)
    before = point(page)
    x, y, got = click_map(page, 0.3, 0.65)
    assert (got["xAxis"], got["yAxis"]) == ("PC1", "PC2")
    after = point(page)
    assert after[0] == pytest.approx(x, abs=1e-12) and after[1] == pytest.approx(y, abs=1e-12)
    assert (after[2:] == before[2:]).all()  # the rest stay, exactly
    assert page.evaluate("changes.at(-1).source") == "map"
    assert_shows(page, bundle, after)
    # The marker (an element over the canvas, so a move repaints nothing else) sits where the click was.
    marker = page.locator("latent-explorer .map .marker").bounding_box()
    box = page.locator("latent-explorer canvas.scatter").bounding_box()
    centre = ((marker["x"] + marker["width"] / 2 - box["x"]) / box["width"],
              (marker["y"] + marker["height"] / 2 - box["y"]) / box["height"])
    assert centre == pytest.approx((got["fx"], got["fy"]), abs=1.5 / box["width"])

    # The keyboard: one arrow press moves 1/50 of the view along x only.
    page.locator("latent-explorer canvas.scatter").focus()
    page.keyboard.press("ArrowRight")
    moved = point(page)
    span = float(got["x1"]) - float(got["x0"])
    assert moved[0] == pytest.approx(after[0] + span / 50, abs=1e-12) and (moved[1:] == after[1:]).all()

    # A named direction across, PC3 up: its position along v and PC3 become the click's; the point
    # moves in the span of v and e3 only.
    x_axis = next(a for a in m["axes"] if a["name"] == "brightness")
    v = np.array(x_axis["direction"])
    page.get_by_role("combobox", name="map x axis").select_option(label="brightness")
    page.get_by_role("combobox", name="map y axis").select_option(label="PC3")
    before = point(page)
    x, y, got = click_map(page, 0.7, 0.2)
    assert (got["xAxis"], got["yAxis"]) == ("brightness", "PC3")
    after = point(page)
    assert after @ v == pytest.approx(x, abs=1e-9) and after[2] == pytest.approx(y, abs=1e-12)
    basis = np.stack([v, np.eye(len(v))[2]])
    step = after - before
    coef, *_ = np.linalg.lstsq(basis.T, step, rcond=None)
    np.testing.assert_allclose(basis.T @ coef, step, atol=1e-9)
    assert_shows(page, bundle, after)
    assert console_errors == []


# --- the live grid ---------------------------------------------------------------------------------

RENDERS = f"""() => {{ window.grids = [];
    {X}.shadowRoot.querySelector('.grid').addEventListener('grid-render', (e) => grids.push(e.detail.points)); }}"""
PAINTED = f"""() => Number({X}.shadowRoot.querySelector('.grid').dataset.painted)"""


def grid_cells(p, std, ax, ay, n, span):
    """Python's grid: row 0 at the top (+y), column 0 at the left (-x), ±span σ along each axis."""
    def unit(axis):
        return np.array(axis["direction"]) if "direction" in axis else np.eye(len(p))[axis["component"]]

    def sigma(axis):
        return std[axis["component"]] if "component" in axis else axis["spread"]

    steps = (np.arange(n) - (n - 1) / 2) * (2 * span / (n - 1))
    return np.array([p + a * sigma(ax) * unit(ax) + b * sigma(ay) * unit(ay) for b in steps[::-1] for a in steps])


def grid_canvas(page):
    got = page.evaluate(f"""() => {{ const c = {X}.shadowRoot.querySelector('.grid canvas.cells');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        return [c.height, c.width, Array.from(d).filter((_, i) => i % 4 === 0)]; }}""")
    return np.array(got[2], np.float64).reshape(got[0], got[1]) / 255


def test_the_grid_decodes_its_coordinates_as_python_does(page, http_server, console_errors):
    bundle = http_server.root / "models" / "digits"
    m = manifest(bundle)
    std = np.array(m["pca"]["std"])
    H, W = m["image"]["height"], m["image"]["width"]
    assert open_element(page, http_server, DIGITS, attrs='panels="sliders examples grid"') is True
    page.wait_for_function(f"{PAINTED} >= 1")
    page.wait_for_timeout(200)
    painted0 = page.evaluate(PAINTED)
    page.evaluate(RENDERS)
    grid = page.locator("latent-explorer .grid")
    page.get_by_role("combobox", name="grid y axis").select_option(label="x")  # a named direction up
    page.wait_for_function("window.grids.length > 0")
    y_axis = next(a for a in m["axes"] if a["name"] == "x") | {"spread": next(
        i["spread"] for i in m["directions"]["items"] if i["name"] == "x")}
    for example in (4, 9):
        page.get_by_role("combobox", name="example", exact=True).select_option(index=example)
        page.wait_for_function(f"""() => {{ const g = window.grids.at(-1);
            return g && g[40].every((v, i) => v === {X}.point[i]); }}""")  # the centre cell is the point
        cells = np.array(page.evaluate("grids.at(-1)"))
        want = grid_cells(point(page), std, {"component": 0}, y_axis, 9, 2)
        assert cells.shape == (81, len(std))
        np.testing.assert_allclose(cells, want, rtol=0, atol=1e-12)
        page.wait_for_timeout(100)  # the grid on show is the last one decoded
        assert page.evaluate(PAINTED) == painted0 + page.evaluate("grids.length")
        python = ort_decode(bundle, cells).reshape(81, -1)
        assert np.abs(browser_decode(page, cells) - python).max() <= 1e-5
        shown = grid_canvas(page).reshape(9, H, 9, W).transpose(0, 2, 1, 3).reshape(81, -1)
        np.testing.assert_allclose(shown, python, atol=1 / 255 + 1e-6)

    # 16 x 16, ±3σ: 256 cells in one batch.
    page.get_by_role("combobox", name="grid span").select_option("3")  # first, so the only 256-cell grid is ±3σ
    page.get_by_role("combobox", name="grid size").select_option("16")
    page.wait_for_function("window.grids.at(-1).length === 256")
    cells = np.array(page.evaluate("grids.at(-1)"))
    np.testing.assert_allclose(cells, grid_cells(point(page), std, {"component": 0}, y_axis, 16, 3), atol=1e-12)
    assert grid.locator("canvas.cells").evaluate("(c) => [c.width, c.height]") == [16 * W, 16 * H]

    # Points arriving mid-decode coalesce: 30 moves, far fewer grids, the last one around the last point.
    painted = page.evaluate("grids.length")
    page.evaluate(f"() => {{ for (let i = 0; i < 30; i++) {X}.point = new Array({len(std)}).fill(i / 30); }}")
    page.wait_for_function(f"window.grids.length > {painted}")
    page.wait_for_timeout(500)
    assert page.evaluate(PAINTED) == painted0 + page.evaluate("grids.length")
    n = page.evaluate("grids.length") - painted
    print(f"30 moves -> {n} grids painted")
    assert 1 <= n <= 5
    last = np.full(len(std), 29 / 30)
    np.testing.assert_allclose(page.evaluate("grids.at(-1)"), grid_cells(last, std, {"component": 0}, y_axis, 16, 3),
                               atol=1e-12)
    # Clicking a cell goes there.
    grid.locator("canvas.cells").scroll_into_view_if_needed()
    box = grid.locator("canvas.cells").bounding_box()
    target = page.evaluate("grids.at(-1)[13 * 16 + 2]")  # row 13, column 2
    page.mouse.click(box["x"] + box["width"] * 2.5 / 16, box["y"] + box["height"] * 13.5 / 16)
    assert page.evaluate(f"{X}.point") == target
    assert page.evaluate("changes.at(-1).source") == "grid"
    assert console_errors == []


# --- nearest examples, typicality --------------------------------------------------------------

def probe_points(m, rng):
    std = np.array(m["pca"]["std"])
    return [np.zeros(len(std)), np.array(m["anchors"][1]["coords"]), np.array(m["anchors"][-1]["coords"]),
            rng.standard_normal(len(std)) * std, rng.standard_normal(len(std)) * std * 2.5, 6 * std]


@pytest.mark.parametrize("name", ["digits", "fashion-mnist"])
def test_nearest_examples_equal_points_nearest(name, page, http_server, console_errors):
    bundle = http_server.root / "models" / name
    m = manifest(bundle)
    rows = map_rows(bundle)
    assert open_element(page, http_server, f"/models/{name}/manifest.json") is True
    strip = page.locator("latent-explorer .nearest")
    for i, p in enumerate(probe_points(m, np.random.default_rng(0))):
        page.evaluate(f"(p) => {{ {X}.point = p; }}", p.tolist())
        page.wait_for_function(f"() => {X}.shadowRoot.querySelector('.nearest').dataset.updated >= {i + 1}")
        got = [int(r) for r in strip.locator("figure").evaluate_all("(fs) => fs.map((f) => f.dataset.row)")]
        assert got == points.nearest(rows, p, 6).tolist()
        labels = strip.locator("figcaption").all_text_contents()
        names = m["dataset"]["label_names"]
        assert labels == [names[m["map"]["labels"][r]] for r in got]
    # Each thumbnail is its tile of the sprite: the training image itself.
    if name == "digits":
        from exporter.data import load_images
        x = load_images("digits").x_train
        thumbs = strip.locator("canvas").evaluate_all("""(cs) => cs.map((c) => Array.from(
            c.getContext('2d').getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 4 === 0))""")
        for r, t in zip(got, thumbs):
            assert t == np.round(x[m["map"]["indices"][r]].ravel() * 255).astype(int).tolist()
    # Clicking one goes to its map coordinates (float16, exactly).
    strip.locator("button").nth(2).click()
    assert page.evaluate(f"{X}.point") == rows[got[2]].astype(np.float64).tolist()
    assert console_errors == []


def test_the_meter_reads_points_percentile(page, http_server, console_errors):
    bundle = http_server.root / "models" / "fashion-mnist"
    m = manifest(bundle)
    std, q = np.array(m["pca"]["std"]), m["typicality"]["quantiles"]
    assert open_element(page, http_server, "/models/fashion-mnist/manifest.json") is True
    meter = page.locator("latent-explorer .meter")
    seen = set()
    for p in probe_points(m, np.random.default_rng(1)) + [std * s for s in (1.0, 1.2, 1.3, 1.4, 1.5, 1.7)]:
        page.evaluate(f"(p) => {{ {X}.point = p; }}", p.tolist())
        d2 = points.mahalanobis2(p, std)
        want = points.percentile(d2, q)
        got = meter.evaluate("(b) => [Number(b.dataset.d2), Number(b.dataset.percentile), b.className]")
        assert got[0] == pytest.approx(d2, rel=1e-12) and got[1] == pytest.approx(want, abs=1e-9)
        assert meter.locator("meter").evaluate("(b) => b.value") == pytest.approx(want, abs=1e-9)
        level = "out" if want >= 99 else "far" if want >= 90 else "typical"
        assert got[2].split() == ["meter"] + ([level] if level != "typical" else [])
        seen.add(level)
        text = meter.locator(".reading").inner_text()
        if want >= 50 and want < 100:
            assert f"than {want:.0f}% of training examples" in text or f"than {want:.1f}% of" in text
        print(f"d2 {d2:.2f}: {want:.2f}% -> {text}")
    assert seen == {"typical", "far", "out"}
    assert console_errors == []


# --- interpolation ----------------------------------------------------------------------------

def test_slerp_keeps_its_ends_and_the_filmstrip_is_horizontal(page, http_server, console_errors):
    bundle = http_server.root / "models" / "digits"
    m = manifest(bundle)
    a, b = np.array(m["anchors"][3]["coords"]), np.array(m["anchors"][11]["coords"])
    assert open_element(page, http_server, DIGITS) is True
    x = page.locator("latent-explorer")
    x.locator(".interpolate summary").click()
    x.get_by_role("combobox", name="interpolation path").select_option("spherical")
    x.get_by_role("combobox", name="interpolate from").select_option("3")
    x.get_by_role("combobox", name="interpolate to").select_option("11")
    position = x.get_by_label("position between the two ends")
    position.focus()
    page.keyboard.press("End")
    assert page.evaluate(f"{X}.point") == b.tolist()
    page.keyboard.press("Home")
    assert page.evaluate(f"{X}.point") == a.tolist()
    position.evaluate("(s) => { s.value = 0.5; s.dispatchEvent(new Event('input')); }")
    omega = np.arccos(a @ b / np.linalg.norm(a) / np.linalg.norm(b))
    want = (np.sin(0.5 * omega) * a + np.sin(0.5 * omega) * b) / np.sin(omega)
    np.testing.assert_allclose(point(page), want, atol=1e-12)
    assert np.linalg.norm(want) != pytest.approx(np.linalg.norm((a + b) / 2), rel=1e-3)  # not lerp
    figures = x.locator(".interpolate .strip figure")
    page.wait_for_function(f"{X}.shadowRoot.querySelectorAll('.interpolate .strip figure').length === 9")
    boxes = [f.bounding_box() for f in figures.all()]
    assert len({round(bx["y"]) for bx in boxes}) == 1 and all(p["x"] < q["x"] for p, q in zip(boxes, boxes[1:]))
    frames = x.locator(".interpolate canvas").evaluate_all("""(cs) => cs.map((c) => Array.from(
        c.getContext('2d').getImageData(0, 0, c.width, c.height).data).filter((_, i) => i % 4 === 0))""")
    ends = ort_decode(bundle, [a, b]).reshape(2, -1)
    np.testing.assert_allclose(np.array(frames[0]) / 255, ends[0], atol=1 / 255 + 1e-6)
    np.testing.assert_allclose(np.array(frames[-1]) / 255, ends[1], atol=1 / 255 + 1e-6)
    assert console_errors == []


# --- a direction from an edit ----------------------------------------------------------------------

def test_a_direction_from_an_edit_is_pythons_on_the_same_pixels(page, http_server, console_errors):
    bundle = http_server.root / "models" / "digits"
    m = manifest(bundle)
    H, W = m["image"]["height"], m["image"]["width"]
    assert open_element(page, http_server, DIGITS) is True
    x = page.locator("latent-explorer")
    page.get_by_role("combobox", name="example", exact=True).select_option(index=8)
    page.wait_for_function(SETTLED)
    shown = point(page)
    x.locator(".edit summary").click()
    x.get_by_role("button", name="Draw over this image").click()
    make = x.get_by_role("button", name="Direction from this edit")
    make.wait_for(state="attached")
    # "Direction from this edit" (the second button) is enabled once the decode is on the pad
    page.wait_for_function(f"!{X}.shadowRoot.querySelectorAll('.edit button')[1].disabled")
    # The pad holds the decode on show, as s x s blocks: its area average is that decode to 1/255.
    pad = pad_canvas(page)
    s = pad.shape[0] // H
    decoded = ort_decode(bundle, [shown]).reshape(H, W)
    np.testing.assert_allclose(pad.reshape(H, s, W, s).mean((1, 3)) / 255, decoded, atol=0.5 / 255 + 1e-6)
    stroke(page, [(0.2, 0.15), (0.8, 0.15)])  # a bar over the top
    drawn = np.array(page.evaluate("changes.at(-1).input"), np.float32)
    x.get_by_label("name of the direction").fill("bar on top")
    make.click()
    page.wait_for_function(f"{X}.directions.length === 1")
    [d] = page.evaluate(f"{X}.directions")
    assert d["name"] == "bar on top" and d["source"]["kind"] == "edit"
    before, after = np.array(d["source"]["before"], np.float32), np.array(d["source"]["after"], np.float32)
    np.testing.assert_allclose(before.reshape(H, W), pad.reshape(H, s, W, s).mean((1, 3)) / 255, atol=1e-6)
    assert (after == drawn).all()  # what the encoder read while drawing
    codes = ort_encode(bundle, np.stack([before, after]).reshape(2, H, W)).astype(np.float64)
    from exporter.space.directions import edit, unit
    want = edit(codes[0], codes[1])
    print("edit direction: |browser - python| max", np.abs(np.array(d["source"]["difference"]) - want).max())
    np.testing.assert_allclose(d["source"]["difference"], want, atol=1e-5)
    np.testing.assert_allclose(d["direction"], unit(want), atol=1e-5)
    assert d["source"]["norm"] == pytest.approx(np.linalg.norm(want), abs=1e-5)

    # It is a slider at once, moving coords + a * v; and an axis of the map.
    v = np.array(d["direction"])
    start = point(page)
    slider = x.get_by_label("bar on top", exact=True)
    slider.focus()
    for _ in range(30):
        page.keyboard.press("ArrowRight")
    moved = point(page)
    alpha = (moved - start) @ v
    assert alpha > 0
    np.testing.assert_allclose(moved, start + alpha * v, atol=1e-12)
    assert_shows(page, bundle, moved)
    assert "bar on top" in x.get_by_role("combobox", name="map x axis").locator("option").all_text_contents()

    # The download is el.directions.
    with page.expect_download() as download:
        x.get_by_role("button", name="Download directions (JSON)").click()
    saved = json.loads(open(download.value.path()).read())
    assert saved["bundle"] == "digits" and saved["latent_size"] == 8
    assert saved["directions"] == page.evaluate(f"{X}.directions")
    assert console_errors == []


def test_el_directions_checks_what_a_page_sets(page, http_server, console_errors):
    assert open_element(page, http_server, DIGITS) is True
    errors = page.evaluate(f"""() => [
        {{ name: 'PC1', direction: [1, 0, 0, 0, 0, 0, 0, 0] }},
        {{ name: 'brightness', direction: [1, 0, 0, 0, 0, 0, 0, 0] }},
        {{ name: 'a', direction: [0, 0, 0, 0, 0, 0, 0, 0] }},
        {{ name: 'a', direction: [1, 0, 0] }},
        {{ name: 'a', direction: [1, 0, 0, 0, 0, 0, 0, NaN] }},
        {{ name: '', direction: [1, 0, 0, 0, 0, 0, 0, 0] }},
      ].map((d) => {{ try {{ {X}.directions = [d]; return null; }} catch (e) {{ return e.name + ': ' + e.message; }} }})""")
    print(*errors, sep="\n")
    assert all(errors) and "taken" in errors[0] and "taken" in errors[1] and "non-zero" in errors[2]
    assert page.evaluate(f"{X}.directions") == []
    page.evaluate(f"""() => {{ window.told = [];
        {X}.addEventListener('latent-directions', (e) => told.push(e.detail.directions.map((d) => d.name)));
        {X}.directions = [{{ name: 'mine', direction: [3, 4, 0, 0, 0, 0, 0, 0] }}]; }}""")
    assert page.evaluate(f"{X}.directions") == [
        {"name": "mine", "direction": [0.6, 0.8, 0, 0, 0, 0, 0, 0], "source": {"kind": "vector"}}]
    assert page.evaluate("told") == [["mine"]]
    assert page.locator("latent-explorer").get_by_label("mine", exact=True).count() == 1
    assert console_errors == []


# --- the demo pages -------------------------------------------------------------------------------

DEMOS = sorted(p.name for p in (ROOT / "web" / "demos").glob("*.html"))
ALL_READY = """() => [...document.querySelectorAll('latent-explorer')].every((x) => x.model && x.point.length)"""


def test_the_site_carries_the_demo_pages(http_server):
    assert len(DEMOS) == 7
    for name in [*DEMOS, "demo.js", "demo.css", "two-models.js"]:
        assert (http_server.root / "demos" / name).read_bytes() == (ROOT / "web" / "demos" / name).read_bytes()


@pytest.mark.parametrize("name", DEMOS)
def test_a_demo_page_loads_its_bundles_without_errors(name, page, http_server, console_errors):
    page.goto(f"{http_server.base_url}demos/{name}")
    page.wait_for_function("!!customElements.get('latent-explorer')")
    elements = page.locator("latent-explorer")
    if elements.count():
        assert page.evaluate("Promise.all([...document.querySelectorAll('latent-explorer')].map((x) => x.ready))"
                             ".then(() => true, (e) => e.message)") is True
        page.wait_for_function(ALL_READY)
        wanted = elements.evaluate_all("(xs) => xs.map((x) => [x.dataset.model, x.model.manifest.name])")
        assert all(want == got for want, got in wanted), wanted  # each its own bundle: no stand-in
        assert page.locator("#note").is_hidden()
    links = page.locator("nav a").evaluate_all("(as) => as.map((a) => a.getAttribute('href'))")
    assert {d for d in DEMOS if d != "index.html"} <= set(links)
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]
    assert console_errors == []


def test_the_two_models_page_moves_both(page, http_server, console_errors):
    left_m = manifest(http_server.root / "models" / "fashion-mnist")
    right_m = manifest(http_server.root / "models" / "fashion-mnist-small")
    right_bundle = http_server.root / "models" / "fashion-mnist-small"
    page.goto(f"{http_server.base_url}demos/two-models.html")
    page.wait_for_function("!!customElements.get('latent-explorer')")
    page.wait_for_function(f"({ALL_READY})() && document.getElementById('link-note').textContent.startsWith('Linked')")
    page.evaluate("""() => { window.drawn = [];
        document.getElementById('left').addEventListener('latent-change', (e) => {
          if (e.detail.source === 'drawing') drawn.push(Array.from(e.detail.input)); }); }""")
    get = {side: (lambda s=side: np.array(page.evaluate(f"document.getElementById('{s}').point"))) for side in ("left", "right")}

    # The same example in both: each model's own code of that training image.
    page.locator("#pick").select_option(index=4)
    a = left_m["anchors"][3]
    assert get["left"]().tolist() == a["coords"]
    assert get["right"]().tolist() == next(b["coords"] for b in right_m["anchors"] if b["index"] == a["index"])

    def axis(m, name):
        ax = next(x for x in m["axes"] if x["name"] == name)
        spread = next(i["spread"] for i in m["directions"]["items"] if i["name"] == name)
        return np.array(ax["direction"]), spread

    # A transferred direction moved on either side moves both, by the same number of their own σ.
    for mover, follower, name in (("right", "left", "height@fashion-mnist"), ("left", "right", "height")):
        other = name.split("@")[0] if "@" in name else f"{name}@fashion-mnist"
        vm, sm = axis(right_m if mover == "right" else left_m, name)
        vf, sf = axis(left_m if follower == "left" else right_m, other)
        m0, f0 = get[mover](), get[follower]()
        page.locator(f"#{mover}").get_by_label(name, exact=True).focus()
        for _ in range(25):
            page.keyboard.press("ArrowRight")
        moved_m, moved_f = get[mover]() - m0, get[follower]() - f0
        alpha = moved_m @ vm
        assert alpha > 0
        np.testing.assert_allclose(moved_m, alpha * vm, atol=1e-9)
        np.testing.assert_allclose(moved_f, alpha / sm * sf * vf, atol=1e-9)
        print(f"{name} on the {mover}: {alpha / sm:.3f}σ; {other} on the {follower}: {(moved_f @ vf) / sf:.3f}σ")

    # Drawing on the left pad: the right model encodes the same pixels.
    page.locator("#left canvas.pad-canvas").scroll_into_view_if_needed()
    box = page.locator("#left canvas.pad-canvas").bounding_box()
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.3 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.8 * box["height"], steps=8)
    page.mouse.up()
    page.wait_for_function("window.drawn.length > 0")
    page.wait_for_timeout(800)
    pixels = np.array(page.evaluate("drawn.at(-1)"), np.float32).reshape(1, 28, 28)
    want = ort_encode(right_bundle, pixels)[0]
    page.wait_for_function("""(w) => document.getElementById('right').point.every((v, i) => Math.abs(v - w[i]) < 1e-5)""",
                           arg=want.tolist())
    np.testing.assert_allclose(get["right"](), want, atol=1e-5)
    np.testing.assert_allclose(get["left"](), ort_encode(http_server.root / "models" / "fashion-mnist", pixels)[0], atol=1e-5)
    assert console_errors == []


def test_the_grid_paints_colour_as_python_decodes_it(page, http_server, console_errors):
    """RGB (models/shapes): every grid cell on the canvas is Python's decode of its point, all three
    channels, within 1/255."""
    bundle = http_server.root / "models" / "shapes"
    m = manifest(bundle)
    H, W = m["image"]["height"], m["image"]["width"]
    assert open_element(page, http_server, "/models/shapes/manifest.json", attrs='panels="sliders examples grid"') is True
    page.evaluate(RENDERS)
    page.get_by_role("combobox", name="example", exact=True).select_option(index=3)
    page.wait_for_function("window.grids.length > 0")
    page.wait_for_timeout(300)  # the grid on show is the last one decoded
    cells = np.array(page.evaluate("grids.at(-1)"), np.float32)
    got = page.evaluate(f"""() => {{ const c = {X}.shadowRoot.querySelector('.grid canvas.cells');
        return [c.height, c.width, Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data)]; }}""")
    rgba = np.array(got[2], np.float64).reshape(got[0], got[1], 4) / 255
    shown = rgba[..., :3].reshape(9, H, 9, W, 3).transpose(0, 2, 1, 3, 4).reshape(81, H, W, 3)
    python = ort_decode(bundle, cells).reshape(81, H, W, 3)
    np.testing.assert_allclose(shown, python, atol=1 / 255 + 1e-6)
    assert console_errors == []
