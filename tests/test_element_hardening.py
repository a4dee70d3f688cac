"""<latent-explorer> under hostile or careless use: src switched mid-load, promises taken
before a switch, detached elements, `hidden`, manifests that cannot decode or carry bad
numbers, unsafe bundle names in the demo page's index, and NaN/strings given to decode, encode
and the point (alias coords) setter. Bundles are format 2: a point is all Z coordinates."""
import copy
import json
import re

import numpy as np
import pytest
from test_text_browser import text_server, text_site  # noqa: F401  (session fixtures: the small sentence bundles)

from exporter.export.graphs import session

pytestmark = pytest.mark.browser

DIGITS = "/models/test-digits/manifest.json"  # Z = 8, 5 sliders, 8x8 pixels
CONV = "/models/test-conv/manifest.json"      # Z = 6, 8x8 pixels
Z_DIGITS, Z_CONV = 8, 6
ISOLATED = {"Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp"}
PAYLOAD = "<img src=x onerror=alert(1)>"

# settle(p, ms): how a promise ended within ms, as plain data ("pending" if it never settled).
SETTLE = """window.settle = (p, ms = 15000) => Promise.race([
  Promise.resolve(p).then((value) => ({ status: 'resolved', value: value instanceof Node ? 'element' : value }),
                          (e) => ({ status: 'rejected', name: e?.name, message: e?.message })),
  new Promise((ok) => setTimeout(() => ok({ status: 'pending' }), ms))]);
window.ui = (x) => ({ canvases: x.shadowRoot.querySelectorAll('canvas.main').length,
  sentences: x.shadowRoot.querySelectorAll('.sentence').length,
  sliders: x.shadowRoot.querySelectorAll('.axis input[type=range]').length,
  line: x.shadowRoot.querySelector('.status')?.textContent ?? null,
  error: x.shadowRoot.querySelector('.status')?.classList.contains('error') ?? false,
  name: x.model?.manifest.name ?? null, Z: x.model?.Z ?? null });"""


def embed(page, server, body=""):
    """An empty page (or `body`) that loads the element module, served like a blog post."""
    page.route(server.base_url + "embed.html", lambda route: route.fulfill(
        content_type="text/html", headers=ISOLATED,
        body=f'<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">'
             f'<script type="module" src="/latent-explorer.js"></script><body>{body}</body>'))
    page.add_init_script(SETTLE)
    page.goto(server.base_url + "embed.html")
    page.evaluate("customElements.whenDefined('latent-explorer')")


def manifest(server, name):
    return json.loads((server.root / "models" / name / "manifest.json").read_text())


# --- 7. lifecycle ---------------------------------------------------------------------------

@pytest.mark.parametrize("sequence", [
    [DIGITS, CONV, DIGITS], [DIGITS, CONV, DIGITS, CONV], [CONV, DIGITS, CONV, DIGITS, CONV, DIGITS]],
    ids=["A-B-A", "A-B-A-B", "B-A-B-A-B-A"])
def test_src_switches_leave_one_ui_for_the_last_src(sequence, page, http_server, console_errors):
    embed(page, http_server)
    got = page.evaluate("""async (srcs) => {
        const x = document.createElement('latent-explorer');
        x.src = srcs[0];
        document.body.append(x);
        for (const s of srcs.slice(1)) { await new Promise((ok) => setTimeout(ok, 3)); x.src = s; }
        const ready = await settle(x.ready);
        await new Promise((ok) => setTimeout(ok, 2000)); // room for superseded loads to (wrongly) finish
        return { ready: ready.status, ...ui(x) };
    }""", sequence)
    print(sequence, got)
    last = sequence[-1]
    name = last.split("/")[2]
    del got["line"]
    assert got == {"ready": "resolved", "canvases": 1, "sentences": 0, "sliders": len(manifest(http_server, name)["axes"]),
                   "error": False, "name": name, "Z": manifest(http_server, name)["latent"]["size"]}
    assert console_errors == []


def test_ready_and_decode_taken_before_a_src_change_reject_with_abort_error(page, http_server, console_errors):
    embed(page, http_server)
    got = page.evaluate("""async ([a, b, za, zb]) => {
        const x = document.createElement('latent-explorer');
        x.src = a;
        document.body.append(x);
        const zeros = (n) => new Array(n).fill(0);
        const ready = x.ready, decoded = x.decode([zeros(za)]), encoded = x.encode([new Array(64).fill(0.5)]);
        x.src = b;                                 // mid-load
        const early = { ready: await settle(ready), decoded: await settle(decoded), encoded: await settle(encoded) };
        await x.ready;
        // src changes while the decoding worker runs the graph: right after the page posts the request
        const midRun = (src) => {
            const m = x.model, run = m.run.bind(m);
            m.run = (...args) => { const p = run(...args); x.src = src; return p; };
        };
        midRun(a);
        const loadedReady = x.ready, inflight = x.decode([zeros(zb)]);
        const late = { ready: await settle(loadedReady), decoded: await settle(inflight) };
        await x.ready;
        midRun(b); // and during an encode
        const encodedLate = await settle(x.encode([new Array(64).fill(0.5)]));
        await x.ready;
        x.src = a;
        const next = await settle(x.decode([zeros(za)]).then((r) => r[0].length));
        await new Promise((ok) => setTimeout(ok, 500));
        return { early, late, encodedLate, next, point: x.point, ...ui(x) };
    }""", [DIGITS, CONV, Z_DIGITS, Z_CONV])
    aborted = {"status": "rejected", "name": "AbortError", "message": "src changed"}
    assert got["early"] == {"ready": aborted, "decoded": aborted, "encoded": aborted}
    assert got["late"]["ready"]["status"] == "resolved"  # it had settled already: it stays resolved
    assert got["late"]["decoded"] == aborted
    assert got["encodedLate"] == aborted
    assert got["next"] == {"status": "resolved", "value": 64}
    assert (got["canvases"], got["sliders"], got["name"], got["point"]) == (1, 5, "test-digits", [0] * Z_DIGITS)
    assert console_errors == []


def test_src_set_after_connecting_without_src_loads(page, http_server, console_errors):
    embed(page, http_server, '<latent-explorer id="x"></latent-explorer>')
    got = page.evaluate("""async (src) => {
        const x = document.getElementById('x');
        const before = await settle(x.ready, 3000);
        x.src = src;
        const after = await settle(x.ready);
        return { before, after: after.status, ...ui(x) };
    }""", DIGITS)
    assert got["before"]["status"] == "rejected" and "no src attribute" in got["before"]["message"]
    assert got["after"] == "resolved" and (got["canvases"], got["sliders"], got["error"], got["Z"]) == (1, 5, False, Z_DIGITS)
    assert console_errors == []


def test_a_superseded_load_does_not_settle_the_new_ready(page, http_server, console_errors):
    """The old src fails (404) after the new src was set; the new ready must not see that error."""
    held = []
    page.route(re.compile(r".*/manifest\.json\?held$"), lambda route: held.append(route))
    embed(page, http_server)
    page.evaluate("""([bad, good]) => {
        const x = document.createElement('latent-explorer');
        x.src = bad;
        document.body.append(x);
        x.src = good;                          // its manifest is held back until bad has failed
        window.outcome = settle(x.ready, 20000).then((r) => ({ ...r, value: undefined, ...ui(x) }));
    }""", ["/models/nope/manifest.json", DIGITS + "?held"])
    for _ in range(100):
        if held:
            break
        page.wait_for_timeout(50)
    page.wait_for_timeout(500)  # the bad manifest's 404 has arrived by now
    held[0].fulfill(path=http_server.root / "models" / "test-digits" / "manifest.json",
                    content_type="application/json")
    got = page.evaluate("outcome")
    assert got["status"] == "resolved", got
    assert (got["canvases"], got["sliders"], got["error"], got["name"]) == (1, 5, False, "test-digits")


def test_decode_on_an_element_never_added_to_the_page(page, http_server, digits_bundle, console_errors):
    embed(page, http_server)
    got = page.evaluate("""async (src) => {
        const x = document.createElement('latent-explorer');
        x.src = src;
        const r = await settle(x.decode([[0.5, -1, 0, 0.25, 0, 0, 1.5, -0.125]]));
        return r.status === 'resolved' ? Array.from(r.value[0]) : r;
    }""", DIGITS)
    assert isinstance(got, list), got
    point = np.array([[0.5, -1, 0, 0.25, 0, 0, 1.5, -0.125]], np.float32)
    want = session(digits_bundle / "decoder.onnx").run(None, {"coords": point})[0]
    np.testing.assert_allclose(got, want.ravel(), atol=1e-5)
    assert console_errors == []


def test_hidden_attribute_hides_the_element(page, http_server, console_errors):
    embed(page, http_server, f'<latent-explorer id="x" hidden src="{DIGITS}"></latent-explorer>')
    page.evaluate("document.getElementById('x').ready")
    assert page.evaluate("getComputedStyle(document.getElementById('x')).display") == "none"
    assert not page.locator("#x").is_visible()
    page.evaluate("document.getElementById('x').hidden = false")
    assert page.evaluate("getComputedStyle(document.getElementById('x')).display") == "inline-block"
    assert console_errors == []


# --- 8 and 4. a bundle is checked before `ready` resolves -----------------------------------

INF = "__INFINITY__"  # JSON has no Infinity, but 1e999 parses to it


def set_z(m, z):
    """The manifest with latent size z, consistent everywhere except the graphs."""
    m["latent"]["size"] = z
    m["pca"] = {key: (v * z)[:z] for key, v in m["pca"].items()}
    m["pca"]["components"] = [(row * z)[:z] for row in m["pca"]["components"]]
    m["axes"] = [a for a in m["axes"] if a["component"] < z]
    for a in m["anchors"]:
        a["coords"] = (a["coords"] * z)[:z]
    return m


def z7_declared(m):
    """A manifest that agrees with itself (no poster of the old size) but not with decoder.onnx."""
    set_z(m, 7)
    m.pop("poster", None)
    m["graphs"]["decoder"]["inputs"]["coords"]["shape"] = ["batch", 7]
    m["graphs"]["encoder"]["outputs"]["coords"]["shape"] = ["batch", 7]
    return m


def height7_declared(m):
    m["image"]["height"] = 7
    m.pop("poster", None)
    m["graphs"]["decoder"]["outputs"]["pixels"]["shape"] = ["batch", 7, 8]
    m["graphs"]["encoder"]["inputs"]["pixels"]["shape"] = ["batch", 7, 8]
    return m


def version_1(m):
    """What a bundle exported before format 2 looks like: k sliders' coordinates, not Z."""
    m["format_version"] = 1
    m["latent"]["k"] = 5
    return m


def direction_instead(m, length=8):
    del m["axes"][0]["component"]
    m["axes"][0]["direction"] = [1] * length
    return m


def setting(path, value):
    """A mutation that sets (or with value=KeyError, deletes) manifest[path...]."""
    def mutate(m):
        *parents, last = path
        node = m
        for key in parents:
            node = node[key]
        if value is KeyError:
            del node[last]
        else:
            node[last] = value
        return m
    return mutate


IMAGE_CASES = {  # id: (mutation of the test-digits manifest, what the message must say)
    "version-1": (version_1, "manifest.json: bundle format version 1; this element reads version 2 "
                             "(re-export the bundle with latent-explorer >= 0.2)"),
    "version-3": (setting(["format_version"], 3),
                  "manifest.json: format_version must be 2, the version this element reads, got 3"),
    "std-string": (setting(["pca", "std", 2], "abc"),
                   'manifest.json: pca.std[2] must be a positive finite number, got "abc"'),
    "std-zero": (setting(["pca", "std", 0], 0), "manifest.json: pca.std[0] must be a positive finite number, got 0"),
    "std-negative": (setting(["pca", "std", 4], -1), "pca.std[4] must be a positive finite number, got -1"),
    "std-infinite": (setting(["pca", "std", 1], INF), "pca.std[1] must be a positive finite number, got Infinity"),
    "std-short": (setting(["pca", "std"], [1, 1, 1]), "pca.std must be a list of 8 entries (latent.size), got a list of 3"),
    "mean-infinite": (setting(["pca", "mean", 6], INF), "pca.mean[6] must be a finite number, got Infinity"),
    "mean-missing": (setting(["pca", "mean"], KeyError), "pca.mean is missing"),
    "components-row-short": (setting(["pca", "components", 3], [0] * 7),
                             "pca.components[3] must be a list of 8 entries (latent.size), got a list of 7"),
    "components-string": (setting(["pca", "components", 0, 7], "x"), 'pca.components[0][7] must be a finite number, got "x"'),
    "components-rows": (setting(["pca", "components"], [[0] * 8] * 5),
                        "pca.components must be a list of 8 entries (latent.size), got a list of 5"),
    "ratio-missing": (setting(["pca", "explained_variance_ratio"], KeyError), "pca.explained_variance_ratio is missing"),
    "anchor-string": (setting(["anchors", 3, "coords", 1], "x"), 'anchors[3].coords[1] must be a finite number, got "x"'),
    "anchor-infinite": (setting(["anchors", 0, "coords", 0], INF), "anchors[0].coords[0] must be a finite number, got Infinity"),
    "anchor-null": (setting(["anchors", 5, "coords", 7], None), "anchors[5].coords[7] must be a finite number, got null"),
    "anchor-short": (setting(["anchors", 2, "coords"], [0, 0, 0, 0, 0]),
                     "anchors[2].coords must be a list of 8 entries (latent.size), got a list of 5"),
    "axis-min-string": (setting(["axes", 0, "min"], "a"), 'axes[0].min must be a finite number, got "a"'),
    "axis-max-infinite": (setting(["axes", 1, "max"], INF), "axes[1].max must be a finite number"),
    "axis-max-below-min": (setting(["axes", 2, "max"], -5), "axes[2].max must be a finite number greater than min"),
    "axis-component": (setting(["axes", 1, "component"], 8), "axes[1].component must be an integer from 0 to 7"),
    "axis-neither": (setting(["axes", 1, "component"], KeyError), "axes[1] needs either a component or a direction"),
    "axis-both": (setting(["axes", 0, "direction"], [1] * 8), "axes[0] needs either a component or a direction"),
    "axis-direction-short": (lambda m: direction_instead(m, 3),
                             "axes[0].direction must be a list of 8 entries (latent.size), got a list of 3"),
    "axis-direction-nan": (lambda m: setting(["axes", 0, "direction", 2], INF)(direction_instead(m)),
                           "axes[0].direction[2] must be a finite number, got Infinity"),
    "latent-missing": (setting(["latent"], KeyError), "manifest.json: latent is missing"),
    "z-vs-graph": (lambda m: set_z(m, 7), 'graphs.decoder.inputs.coords.shape must be ["batch",7] (latent.size)'),
    "z-vs-onnx": (z7_declared, 'decoder.onnx: input coords has shape ["batch",8], the manifest needs ["batch",7]'),
    "z-huge": (setting(["latent", "size"], 10**6), "latent.size must be an integer from 1 to 4096"),
    "graphs-empty": (setting(["graphs"], {}), "manifest.json: graphs.decoder is missing"),
    "height-vs-graph": (setting(["image", "height"], 7), 'graphs.decoder.outputs.pixels.shape must be ["batch",7,8]'),
    "height-vs-onnx": (height7_declared, 'decoder.onnx: output pixels has shape ["batch",8,8], the manifest needs ["batch",7,8]'),
    "poster-point": (setting(["poster", "point"], [0.0] * 7), "manifest.json: poster.point must be a list of 8 entries"),
    "poster-pixels": (setting(["poster", "pixels"], "AAAA"),
                      "manifest.json: poster.pixels must be base64 of 64 bytes (image height × width × channels)"),
    "poster-html": (setting(["poster", "pixels"], "<img src=x onerror=alert(1)>"), "manifest.json: poster.pixels must be base64"),
    "preprocess-resize": (setting(["image", "preprocess", "resize"], "bicubic"),
                          'image.preprocess.resize must be one of "area", got "bicubic"'),
    "preprocess-ink": (setting(["image", "preprocess", "ink"], 255),
                       "image.preprocess.ink must be a number from 0 to 1, got 255"),
    "graph-404": (setting(["graphs", "decoder", "file"], "gone.onnx"), "gone.onnx: HTTP 404"),
    "encoder-404": (setting(["graphs", "encoder", "file"], "gone.onnx"), "gone.onnx: HTTP 404"),
    "encoder-z-vs-graph": (setting(["graphs", "encoder", "outputs", "coords", "shape"], ["batch", 7]),
                           'graphs.encoder.outputs.coords.shape must be ["batch",8] (latent.size)'),
    "encoder-inputs": (setting(["graphs", "encoder", "inputs"], {"image": {"dtype": "float32", "shape": ["batch", 8, 8]}}),
                       "graphs.encoder.inputs must be exactly: pixels, got image"),
    "encoder-is-decoder": (setting(["graphs", "encoder", "file"], "decoder.onnx"),
                           "decoder.onnx: graph has inputs coords, the manifest needs pixels"),
    "graph-outside": (setting(["graphs", "decoder", "file"], "../test-conv/decoder.onnx"),
                      'graphs.decoder.file must be a file name in the bundle\'s folder, got "../test-conv/decoder.onnx"'),
    "name-dots": (setting(["name"], "../evil"),
                  'manifest.json: name must be a bundle name matching ^[a-z0-9][a-z0-9._-]{0,63}$, got "../evil"'),
    "name-upper": (setting(["name"], "Digits"), "name must be a bundle name matching"),
    "name-long": (setting(["name"], "d" * 65), "name must be a bundle name matching"),
}


def shorter_vocab(n):
    """tokenizer.json with only ids below n (no merges)."""
    def change(tok):
        tok["model"]["vocab"] = {t: i for t, i in tok["model"]["vocab"].items() if i < n}
        tok["model"]["merges"] = []
        return tok
    return change


def not_bpe(tok):
    tok["model"] = {"type": "WordPiece", "vocab": tok["model"]["vocab"], "unk_token": "<unk>"}
    return tok


def vocab_and_greedy_logits(m):
    m["graphs"]["greedy"]["outputs"]["logits"]["shape"] = ["batch", m["text"]["max_len"], 9]
    return m


TEXT_CASES = {  # id: (bundle, mutation, change to tokenizer.json or None, what the message must say)
    "variant": ("text-unrolled", setting(["text", "variant"], "beam"), None,
                'manifest.json: text.variant must be one of "loop", "unrolled", got "beam"'),
    "special-missing": ("text-loop", setting(["text", "specials", "eos"], KeyError), None,
                        "manifest.json: text.specials.eos is missing"),
    "special-outside-vocab": ("text-loop", setting(["text", "specials", "eos"], 100000), None,
                              "text.specials.eos is 100000, but tokenizer.json has"),
    "max-len-vs-graph": ("text-unrolled", setting(["text", "max_len"], 5), None,
                         "graphs.greedy.outputs.tokens.shape must be [\"batch\",5]"),
    "vocab-vs-logits-unrolled": ("text-unrolled", None, shorter_vocab(9),
                                 "tokenizer.json has 9 entries, but graphs.greedy.outputs.logits"),
    "vocab-vs-loop-ids": ("text-loop", None, shorter_vocab(9), "the decoder gave token id"),
    "vocab-vs-onnx": ("text-unrolled", vocab_and_greedy_logits, shorter_vocab(9), "greedy.onnx: output logits has shape"),
    "loop-steps": ("text-loop", setting(["graphs", "loop", "outputs", "tokens", "shape"], ["batch", 5]), None,
                   'graphs.loop.outputs.tokens.shape must be ["batch","steps"]'),
    "tokenizer-not-bpe": ("text-loop", None, not_bpe, 'tokenizer.json: model.type must be "BPE"'),
    "poster-text": ("text-loop", setting(["poster", "text"], 5), None, "manifest.json: poster.text must be a string, got 5"),
    "version-1-vocab-key": ("text-unrolled", lambda m: {**m, "text": {("vocab" if k == "tokenizer" else k): v
                                                                      for k, v in m["text"].items()}}, None,
                            "manifest.json: text.tokenizer is missing"),
    "encoder-max-len": ("text-loop", setting(["graphs", "encoder", "inputs", "tokens", "shape"], ["batch", 5]), None,
                        'graphs.encoder.inputs.tokens.shape must be ["batch",33] (text.max_len)'),
    "encoder-lengths-dtype": ("text-unrolled", setting(["graphs", "encoder", "inputs", "lengths", "dtype"], "float32"), None,
                              'graphs.encoder.inputs.lengths.dtype must be one of "int64", got "float32"'),
}


def open_case(page, server, bundle, text, vocab=None):
    """Serve `text` as the bundle's manifest (and `vocab` as its tokenizer.json); load it in a fresh element."""
    page.route(re.compile(r".*/manifest\.json\?case$"), lambda r: r.fulfill(body=text, content_type="application/json"))
    if vocab is not None:
        page.route(f"**/models/{bundle}/tokenizer.json",
                   lambda r: r.fulfill(body=json.dumps(vocab), content_type="application/json"))
    embed(page, server)
    return page.evaluate("""async (src) => {
        const x = document.createElement('latent-explorer');
        const t0 = performance.now();
        x.src = src;
        document.body.append(x);
        const r = await settle(x.ready);
        return { ...r, value: undefined, ms: performance.now() - t0, ...ui(x) };
    }""", f"/models/{bundle}/manifest.json?case")


@pytest.mark.parametrize("case", IMAGE_CASES)
def test_image_manifest_is_checked_before_ready(case, page, http_server):
    mutate, expected = IMAGE_CASES[case]
    m = mutate(copy.deepcopy(manifest(http_server, "test-digits")))
    text = json.dumps(m).replace(f'"{INF}"', "1e999")
    got = open_case(page, http_server, "test-digits", text)
    print(case, "->", got["line"], f"({got['ms']:.0f} ms)")
    assert got["status"] == "rejected" and got["error"] is True, got
    assert got["line"] == f"Could not load /models/test-digits/manifest.json?case: {got['message']}"
    message = got["message"]
    assert expected in message
    assert not re.search(r"TypeError|undefined|Cannot read|properties of", message), message
    assert (got["canvases"], got["sliders"]) == (0, 0)
    if case == "z-huge":
        assert got["ms"] < 3000


@pytest.mark.parametrize("case", TEXT_CASES)
def test_text_manifest_is_checked_before_ready(case, page, text_server):
    bundle, mutate, change, expected = TEXT_CASES[case]
    m = copy.deepcopy(manifest(text_server, bundle))
    if mutate:
        m = mutate(m)
    vocab = change(json.loads((text_server.root / "models" / bundle / "tokenizer.json").read_text())) if change else None
    got = open_case(page, text_server, bundle, json.dumps(m), vocab)
    print(case, "->", got["line"])
    assert got["status"] == "rejected" and got["error"] is True, got
    assert got["line"] == f"Could not load /models/{bundle}/manifest.json?case: {got['message']}"
    message = got["message"]
    assert expected in message
    assert not re.search(r"TypeError|undefined|Cannot read|properties of", message), message
    assert got["sentences"] == 0 and got["sliders"] == 0


def test_demo_page_skips_unsafe_index_entries(page, http_server, console_errors):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    entries = [
        {"name": "../evil", "title": "evil 1", "kind": "image", "manifest": "models/../evil/manifest.json"},
        {"name": "test-conv", "title": "evil 2", "kind": "image", "manifest": "https://evil.example/manifest.json"},
        {"name": "Test-Digits", "title": "evil 3", "kind": "image", "manifest": "models/Test-Digits/manifest.json"},
        {"name": "test-conv", "title": "evil 4", "kind": "image", "manifest": "models/test-digits/manifest.json"},
        {"name": "d" * 65, "title": "evil 5", "kind": "image", "manifest": f"models/{'d' * 65}/manifest.json"},
        {"name": 5, "title": "evil 6", "kind": "image", "manifest": "models/5/manifest.json"},
        {"name": PAYLOAD, "title": "evil 7", "kind": "image", "manifest": f"models/{PAYLOAD}/manifest.json"},
        {"name": "test-digits", "title": PAYLOAD, "kind": "image", "manifest": "models/test-digits/manifest.json"},
    ]
    page.route(http_server.base_url + "models/index.json",
               lambda r: r.fulfill(body=json.dumps({"models": entries}), content_type="application/json"))
    page.goto(http_server.base_url + "?model=..%2Fevil")
    page.wait_for_function("document.querySelector('latent-explorer')")
    ready = page.evaluate("document.querySelector('latent-explorer').ready.then(() => true, (e) => e.message)")
    assert page.locator("nav a").all_inner_texts() == [PAYLOAD]
    assert page.locator("#title").inner_text() == PAYLOAD
    assert page.evaluate("document.querySelector('latent-explorer').src") == "models/test-digits/manifest.json"
    assert ready is True
    assert page.locator("img").count() == 0 and dialogs == []
    assert console_errors == []


# --- 9. decode and coords take finite numbers only ---------------------------------------------

BAD_ROWS = """{
  nan: [NaN, 0, 0, 0, 0, 0, 0, 0], inf: [0, Infinity, 0, 0, 0, 0, 0, 0], ninf: [0, 0, -Infinity, 0, 0, 0, 0, 0],
  beyond_float32: [1e39, 0, 0, 0, 0, 0, 0, 0], numeric_string: ['1.5', 0, 0, 0, 0, 0, 0, 0],
  null_: [null, 0, 0, 0, 0, 0, 0, 0], undefined_: [undefined, 0, 0, 0, 0, 0, 0, 0], boolean: [true, 0, 0, 0, 0, 0, 0, 0],
  object: [{}, 0, 0, 0, 0, 0, 0, 0], nested: [[0], 0, 0, 0, 0, 0, 0, 0], bigint: [0n, 0, 0, 0, 0, 0, 0, 0],
  short: [0, 0, 0, 0, 0, 0, 0], long: [0, 0, 0, 0, 0, 0, 0, 0, 0], string_row: '00000000', number_row: 8, null_row: null,
  array_like: { length: 8, 0: 0, 1: 0, 2: 0, 3: 0, 4: 0, 5: 0, 6: 0, 7: 0 },
}"""  # rows for test-digits (Z = 8)
RANGE = {"nan", "inf", "ninf", "beyond_float32"}


def expected_classes():
    names = re.findall(r"(\w+):", BAD_ROWS.split("array_like")[0]) + ["array_like"]
    return {n: "RangeError" if n in RANGE else "TypeError" for n in names}


def test_decode_rejects_non_finite_numbers_and_non_numbers(page, http_server, console_errors):
    embed(page, http_server, f'<latent-explorer id="x" src="{DIGITS}"></latent-explorer>')
    got = page.evaluate(f"""async () => {{
        const x = document.getElementById('x');
        await x.ready;
        const rows = {BAD_ROWS};
        const out = {{}};
        for (const [name, row] of Object.entries(rows)) {{
          out[name] = await x.decode([new Array(8).fill(0), row]).then(() => 'resolved', (e) => e.constructor.name);
        }}
        for (const [name, batch] of Object.entries({{ empty: [], not_array: 'abc', nothing: undefined }})) {{
          out[name] = await x.decode(batch).then(() => 'resolved', (e) => e.constructor.name);
        }}
        out.float32array = await x.decode([new Float32Array(8), new Float64Array([0, 1, 0, 0, 0, 0, 0, 0])])
          .then((r) => r.length, (e) => e.message);
        return out;
    }}""")
    assert got == {**expected_classes(), "empty": "TypeError", "not_array": "TypeError", "nothing": "TypeError",
                   "float32array": 2}
    assert console_errors == []


@pytest.mark.parametrize("prop", ["point", "coords"])
def test_point_setter_rejects_non_finite_numbers_and_non_numbers(prop, page, http_server, console_errors):
    embed(page, http_server, f'<latent-explorer id="x" src="{DIGITS}"></latent-explorer>')
    got = page.evaluate(f"""async (prop) => {{
        const x = document.getElementById('x');
        await x.ready;
        x[prop] = [1, 2, 3, 4, 5, 6, 7, 8];
        const rows = {BAD_ROWS};
        const out = {{}};
        for (const [name, row] of Object.entries(rows)) {{
          try {{ x[prop] = row; out[name] = 'accepted'; }} catch (e) {{ out[name] = e.constructor.name; }}
        }}
        out.unchanged = x.point;
        x[prop] = new Float32Array([0.5, 0, 0, 0, 0, 0, 0, 0]);
        out.typed = x[prop];
        out.isArray = Array.isArray(x[prop]);
        return out;
    }}""", prop)
    assert got == {**expected_classes(), "unchanged": [1, 2, 3, 4, 5, 6, 7, 8], "typed": [0.5, 0, 0, 0, 0, 0, 0, 0],
                   "isArray": True}
    assert console_errors == []


BAD_IMAGES = """{
  nan: [NaN, ...new Array(63).fill(0)], inf: [Infinity, ...new Array(63).fill(0)], above_one: [1.5, ...new Array(63).fill(0)],
  below_zero: [-0.01, ...new Array(63).fill(0)], short: new Array(63).fill(0), long: new Array(65).fill(0),
  string_pixel: ['0.5', ...new Array(63).fill(0)], null_pixel: [null, ...new Array(63).fill(0)], string_row: 'abc',
  number_row: 64, point_not_image: new Array(8).fill(0),
}"""
IMAGE_RANGE = {"nan", "inf", "above_one", "below_zero"}


def test_encode_rejects_what_is_not_an_image(page, http_server, console_errors):
    """encode() takes H*W grey levels in [0, 1] per image: anything else is a TypeError or RangeError."""
    embed(page, http_server, f'<latent-explorer id="x" src="{DIGITS}"></latent-explorer>')
    got = page.evaluate(f"""async () => {{
        const x = document.getElementById('x');
        await x.ready;
        const out = {{}};
        for (const [name, image] of Object.entries({BAD_IMAGES})) {{
          out[name] = await x.encode([new Array(64).fill(0), image]).then(() => 'resolved', (e) => e.constructor.name);
        }}
        for (const [name, inputs] of Object.entries({{ empty: [], not_array: 'abc', nothing: undefined, string: ['a cat'] }})) {{
          out[name] = await x.encode(inputs).then(() => 'resolved', (e) => e.constructor.name);
        }}
        out.typed = await x.encode([new Float32Array(64), new Array(64).fill(1)]).then((r) => r.map((p) => p.length));
        out.message = await x.encode([new Array(10).fill(0)]).catch((e) => e.message);
        return out;
    }}""")
    names = re.findall(r"(\w+):", BAD_IMAGES)
    assert got == {**{n: "RangeError" if n in IMAGE_RANGE else "TypeError" for n in names}, "empty": "TypeError",
                   "not_array": "TypeError", "nothing": "TypeError", "string": "TypeError", "typed": [8, 8],
                   "message": "encode(inputs): inputs[0] has 10 values, an image of 8 × 8 pixels has 64"}
    assert console_errors == []


def test_encode_rejects_what_is_not_a_sentence(page, text_server, console_errors):
    embed(page, text_server, '<latent-explorer id="x" src="/models/text-unrolled/manifest.json"></latent-explorer>')
    got = page.evaluate("""async () => {
        const x = document.getElementById('x');
        await x.ready;
        const out = {};
        const values = { number: 5, null_: null, array: ['a'], object: {}, image: new Float32Array(4) };
        for (const [name, value] of Object.entries(values)) {
          out[name] = await x.encode(['a cat', value]).then(() => 'resolved', (e) => `${e.constructor.name}: ${e.message}`);
        }
        out.empty_list = await x.encode([]).then(() => 'resolved', (e) => e.constructor.name);
        out.fine = await x.encode(['the dog sees the moon.', '', '  ', 'Ὀδυσσεὺς 😀 <script>'])
          .then((r) => r.map((p) => p.length));
        return out;
    }""")
    assert got == {"number": "TypeError: encode(inputs): inputs[1] must be a string, got number",
                   "null_": "TypeError: encode(inputs): inputs[1] must be a string, got null",
                   "array": "TypeError: encode(inputs): inputs[1] must be a string, got object",
                   "object": "TypeError: encode(inputs): inputs[1] must be a string, got object",
                   "image": "TypeError: encode(inputs): inputs[1] must be a string, got object",
                   "empty_list": "TypeError", "fine": [8, 8, 8, 8]}
    assert console_errors == []


def test_a_bundle_without_an_encoder_has_no_input_and_encode_rejects(page, http_server, console_errors):
    """graphs.encoder is optional: without it, no drawing pad, encode() says why, the rest works."""
    m = manifest(http_server, "test-digits")
    del m["graphs"]["encoder"]
    got = open_case(page, http_server, "test-digits", json.dumps(m))
    assert got["status"] == "resolved" and got["canvases"] == 1 and got["sliders"] == 5, got
    got = page.evaluate("""async () => {
        const x = document.querySelector('latent-explorer');
        return { pad: x.shadowRoot.querySelectorAll('.pad').length,
                 encode: await x.encode([new Array(64).fill(0)])
                   .then(() => 'resolved', (e) => `${e.constructor.name}: ${e.message}`),
                 decode: (await x.decode([new Array(8).fill(0)]))[0].length };
    }""")
    assert got == {"pad": 0, "encode": "Error: encode(): the bundle test-digits has no encoder graph (graphs.encoder)",
                   "decode": 64}
    assert console_errors == []
