"""<latent-explorer> under hostile or careless use: src switched mid-load, promises taken
before a switch, detached elements, `hidden`, manifests that cannot decode or carry bad
numbers, unsafe bundle names in the demo page's index, and NaN/strings given to decode/coords."""
import copy
import json
import re

import numpy as np
import pytest
from test_text_browser import text_server, text_site  # noqa: F401  (session fixtures: the small sentence bundles)

from exporter.export.graphs import session

pytestmark = pytest.mark.browser

DIGITS = "/models/test-digits/manifest.json"  # k = 5, 8x8 pixels
CONV = "/models/test-conv/manifest.json"      # k = 4, 8x8 pixels
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
  name: x.model?.manifest.name ?? null });"""


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
    k = 5 if last == DIGITS else 4
    del got["line"]
    assert got == {"ready": "resolved", "canvases": 1, "sentences": 0, "sliders": k, "error": False,
                   "name": last.split("/")[2]}
    assert console_errors == []


def test_ready_and_decode_taken_before_a_src_change_reject_with_abort_error(page, http_server, console_errors):
    embed(page, http_server)
    got = page.evaluate("""async ([a, b]) => {
        const x = document.createElement('latent-explorer');
        x.src = a;
        document.body.append(x);
        const ready = x.ready, decoded = x.decode([[0, 0, 0, 0, 0]]);
        x.src = b;                                 // mid-load
        const early = { ready: await settle(ready), decoded: await settle(decoded) };
        await x.ready;
        const session = x.model.graphs.decoder.session, run = session.run.bind(session);
        session.run = (...args) => { x.src = a; return run(...args); }; // src changes mid-run
        const loadedReady = x.ready, inflight = x.decode([[0, 0, 0, 0]]);
        const late = { ready: await settle(loadedReady), decoded: await settle(inflight) };
        const next = await settle(x.decode([[0, 0, 0, 0, 0]]).then((r) => r[0].length));
        await new Promise((ok) => setTimeout(ok, 500));
        return { early, late, next, coords: x.coords, ...ui(x) };
    }""", [DIGITS, CONV])
    aborted = {"status": "rejected", "name": "AbortError", "message": "src changed"}
    assert got["early"] == {"ready": aborted, "decoded": aborted}
    assert got["late"]["ready"]["status"] == "resolved"  # it had settled already: it stays resolved
    assert got["late"]["decoded"] == aborted
    assert got["next"] == {"status": "resolved", "value": 64}
    assert (got["canvases"], got["sliders"], got["name"], got["coords"]) == (1, 5, "test-digits", [0] * 5)
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
    assert got["after"] == "resolved" and (got["canvases"], got["sliders"], got["error"]) == (1, 5, False)
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
        const r = await settle(x.decode([[0.5, -1, 0, 0.25, 0]]));
        return r.status === 'resolved' ? Array.from(r.value[0]) : r;
    }""", DIGITS)
    assert isinstance(got, list), got
    want = session(digits_bundle / "decoder.onnx").run(None, {"coords": np.array([[0.5, -1, 0, 0.25, 0]], np.float32)})[0]
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


def set_k(m, k):
    """The manifest with k components, consistent everywhere except the graphs."""
    m["latent"]["k"] = k
    m["pca"] = {key: (v * k)[:k] for key, v in m["pca"].items()}
    m["axes"] = [a for a in m["axes"] if a["index"] < k]
    for a in m["anchors"]:
        a["coords"] = (a["coords"] * k)[:k]
    return m


def k4_declared(m):
    set_k(m, 4)
    m["graphs"]["decoder"]["inputs"]["coords"]["shape"] = ["batch", 4]
    return m


def height7_declared(m):
    m["image"]["height"] = 7
    m["graphs"]["decoder"]["outputs"]["pixels"]["shape"] = ["batch", 7, 8]
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
    "std-string": (setting(["pca", "std", 2], "abc"),
                   'manifest.json: pca.std[2] must be a positive finite number, got "abc"'),
    "std-zero": (setting(["pca", "std", 0], 0), "manifest.json: pca.std[0] must be a positive finite number, got 0"),
    "std-negative": (setting(["pca", "std", 4], -1), "pca.std[4] must be a positive finite number, got -1"),
    "std-infinite": (setting(["pca", "std", 1], INF), "pca.std[1] must be a positive finite number, got Infinity"),
    "std-short": (setting(["pca", "std"], [1, 1, 1]), "pca.std must be a list of 5 entries (latent.k), got a list of 3"),
    "ratio-missing": (setting(["pca", "explained_variance_ratio"], KeyError), "pca.explained_variance_ratio is missing"),
    "anchor-string": (setting(["anchors", 3, "coords", 1], "x"), 'anchors[3].coords[1] must be a finite number, got "x"'),
    "anchor-infinite": (setting(["anchors", 0, "coords", 0], INF), "anchors[0].coords[0] must be a finite number, got Infinity"),
    "anchor-null": (setting(["anchors", 5, "coords", 4], None), "anchors[5].coords[4] must be a finite number, got null"),
    "anchor-short": (setting(["anchors", 2, "coords"], [0, 0, 0, 0]),
                     "anchors[2].coords must be a list of 5 entries (latent.k), got a list of 4"),
    "axis-min-string": (setting(["axes", 0, "min"], "a"), 'axes[0].min must be a finite number, got "a"'),
    "axis-max-infinite": (setting(["axes", 1, "max"], INF), "axes[1].max must be a finite number"),
    "axis-max-below-min": (setting(["axes", 2, "max"], -5), "axes[2].max must be a finite number greater than min"),
    "axis-index": (setting(["axes", 1, "index"], 7), "axes[1].index must be an integer from 0 to 4"),
    "latent-missing": (setting(["latent"], KeyError), "manifest.json: latent is missing"),
    "k-vs-graph": (lambda m: set_k(m, 4), 'graphs.decoder.inputs.coords.shape must be ["batch",4]'),
    "k-vs-onnx": (k4_declared, 'decoder.onnx: input coords has shape ["batch",5], the manifest needs ["batch",4]'),
    "k-huge": (setting(["latent", "k"], 10**6), "latent.k must be an integer from 1 to"),
    "graphs-empty": (setting(["graphs"], {}), "manifest.json: graphs.decoder is missing"),
    "height-vs-graph": (setting(["image", "height"], 7), 'graphs.decoder.outputs.pixels.shape must be ["batch",7,8]'),
    "height-vs-onnx": (height7_declared, 'decoder.onnx: output pixels has shape ["batch",8,8], the manifest needs ["batch",7,8]'),
    "graph-404": (setting(["graphs", "decoder", "file"], "gone.onnx"), "gone.onnx: HTTP 404"),
    "graph-outside": (setting(["graphs", "decoder", "file"], "../test-conv/decoder.onnx"),
                      'graphs.decoder.file must be a file name in the bundle\'s folder, got "../test-conv/decoder.onnx"'),
    "name-dots": (setting(["name"], "../evil"),
                  'manifest.json: name must be a bundle name matching ^[a-z0-9][a-z0-9._-]{0,63}$, got "../evil"'),
    "name-upper": (setting(["name"], "Digits"), "name must be a bundle name matching"),
    "name-long": (setting(["name"], "d" * 65), "name must be a bundle name matching"),
}


def shorter_vocab(server, bundle, n=5):
    vocab = json.loads((server.root / "models" / bundle / "vocab.json").read_text())
    vocab["tokens"] = vocab["tokens"][:n]
    return vocab


def vocab_and_step_logits(m):
    m["graphs"]["step"]["outputs"]["logits"]["shape"] = ["batch", 9]
    return m


TEXT_CASES = {  # id: (bundle, mutation, replacement vocab.json or None, what the message must say)
    "variant": ("text-unrolled", setting(["text", "variant"], "beam"), None,
                'manifest.json: text.variant must be one of "step", "unrolled", got "beam"'),
    "special-missing": ("text-step", setting(["text", "specials", "eos"], KeyError), None,
                        "manifest.json: text.specials.eos is missing"),
    "special-outside-vocab": ("text-step", setting(["text", "specials", "eos"], 100000), None,
                              "text.specials.eos is 100000, but vocab.json has"),
    "max-len-vs-graph": ("text-unrolled", setting(["text", "max_len"], 5), None,
                         "graphs.greedy.outputs.tokens.shape must be [\"batch\",5]"),
    "vocab-vs-logits-unrolled": ("text-unrolled", None, 5, "vocab.json has 9 entries, but graphs.greedy.outputs.logits"),
    "vocab-vs-logits-step": ("text-step", None, 5, "vocab.json has 9 entries, but graphs.step.outputs.logits"),
    "vocab-vs-onnx": ("text-step", vocab_and_step_logits, 5, "step.onnx: output logits has shape"),
}


def open_case(page, server, bundle, text, vocab=None):
    """Serve `text` as the bundle's manifest (and `vocab` as its vocab.json); load it in a fresh element."""
    page.route(re.compile(r".*/manifest\.json\?case$"), lambda r: r.fulfill(body=text, content_type="application/json"))
    if vocab is not None:
        page.route(f"**/models/{bundle}/vocab.json", lambda r: r.fulfill(body=json.dumps(vocab), content_type="application/json"))
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
    if case == "k-huge":
        assert got["ms"] < 3000


@pytest.mark.parametrize("case", TEXT_CASES)
def test_text_manifest_is_checked_before_ready(case, page, text_server):
    bundle, mutate, vocab_size, expected = TEXT_CASES[case]
    m = copy.deepcopy(manifest(text_server, bundle))
    if mutate:
        m = mutate(m)
    vocab = shorter_vocab(text_server, bundle, vocab_size) if vocab_size else None
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
  nan: [NaN, 0, 0, 0, 0], inf: [0, Infinity, 0, 0, 0], ninf: [0, 0, -Infinity, 0, 0], beyond_float32: [1e39, 0, 0, 0, 0],
  numeric_string: ['1.5', 0, 0, 0, 0], null_: [null, 0, 0, 0, 0], undefined_: [undefined, 0, 0, 0, 0],
  boolean: [true, 0, 0, 0, 0], object: [{}, 0, 0, 0, 0], nested: [[0], 0, 0, 0, 0], bigint: [0n, 0, 0, 0, 0],
  short: [0, 0, 0, 0], long: [0, 0, 0, 0, 0, 0], string_row: '00000', number_row: 5, null_row: null,
  array_like: { length: 5, 0: 0, 1: 0, 2: 0, 3: 0, 4: 0 },
}"""
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
          out[name] = await x.decode([[0, 0, 0, 0, 0], row]).then(() => 'resolved', (e) => e.constructor.name);
        }}
        for (const [name, batch] of Object.entries({{ empty: [], not_array: 'abc', nothing: undefined }})) {{
          out[name] = await x.decode(batch).then(() => 'resolved', (e) => e.constructor.name);
        }}
        out.float32array = await x.decode([new Float32Array(5), new Float64Array([0, 1, 0, 0, 0])])
          .then((r) => r.length, (e) => e.message);
        return out;
    }}""")
    assert got == {**expected_classes(), "empty": "TypeError", "not_array": "TypeError", "nothing": "TypeError",
                   "float32array": 2}
    assert console_errors == []


def test_coords_setter_rejects_non_finite_numbers_and_non_numbers(page, http_server, console_errors):
    embed(page, http_server, f'<latent-explorer id="x" src="{DIGITS}"></latent-explorer>')
    got = page.evaluate(f"""async () => {{
        const x = document.getElementById('x');
        await x.ready;
        x.coords = [1, 2, 3, 4, 5];
        const rows = {BAD_ROWS};
        const out = {{}};
        for (const [name, row] of Object.entries(rows)) {{
          try {{ x.coords = row; out[name] = 'accepted'; }} catch (e) {{ out[name] = e.constructor.name; }}
        }}
        out.unchanged = x.coords;
        x.coords = new Float32Array([0.5, 0, 0, 0, 0]);
        out.typed = x.coords;
        return out;
    }}""")
    assert got == {**expected_classes(), "unchanged": [1, 2, 3, 4, 5], "typed": [0.5, 0, 0, 0, 0]}
    assert console_errors == []
