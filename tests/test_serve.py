"""`latent-explorer serve` hardening: what it refuses, what it still serves, and how it fails.
Requests go over raw sockets because urllib and http.client would normalise the odd ones away."""
import email.utils
import http.client
import socket
import subprocess
import sys
import threading
import time

import pytest

from exporter.site.serve import make_server

FILES = {"index.html": "<!doctype html>", "app.mjs": "export {}", "app.js": "1", "m.wasm": "\0asm",
         "d.onnx": "onnx", "m.json": "{}", "note.txt": "hello", ".hidden": "secret", ".git/config": "secret",
         "sub/a.txt": "a", "sub/.env": "secret", "withindex/index.html": "<p>", "trap/x.txt": "x"}


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A site folder holding the shapes to refuse: dotfiles, a dot-folder, a folder without
    index.html, and symlinks to a file and a folder outside it (plus one that stays inside)."""
    root = tmp_path_factory.mktemp("serve")
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("outside")
    (outside / "index.html").write_text("outside")
    site = root / "site"
    for name, text in FILES.items():
        (site / name).parent.mkdir(parents=True, exist_ok=True)
        (site / name).write_text(text)
    (site / "out.txt").symlink_to(outside / "secret.txt")
    (site / "outdir").symlink_to(outside, target_is_directory=True)
    (site / "trap" / "index.html").symlink_to(outside / "index.html")
    (site / "in.txt").symlink_to(site / "note.txt")
    return site


@pytest.fixture(scope="module")
def port(site):
    server = make_server(site, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def request(port, path="/", method="GET", host="127.0.0.1:{port}", headers=()):
    """Send one request byte for byte; return (status, headers, body)."""
    lines = [f"{method} {path} HTTP/1.1"] + ([f"Host: {host.format(port=port)}"] if host else [])
    lines += [*headers, "Connection: close", "", ""]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall("\r\n".join(lines).encode("latin-1"))
        r = http.client.HTTPResponse(s, method=method)
        r.begin()
        return r.status, r.headers, r.read()


@pytest.mark.parametrize("path,status", [
    ("/.%00./x", 400), ("/note%00.txt", 400),          # NUL: was a traceback and an empty reply
    ("/%ed%a0%80", 404),                                # not representable as a file name: was a traceback
    ("/sub/", 404), ("/sub", 404), ("/.git/", 404),     # folders without index.html: were listings / redirects
    ("/.hidden", 404), ("/.git/config", 404), ("/sub/.env", 404), ("/%2egit/config", 404),
    ("/out.txt", 404), ("/outdir/secret.txt", 404),     # symlinks out of the folder: were followed
    ("/trap/", 404),                                    # a folder whose index.html links out
])
def test_refused_paths(port, path, status, capsys):
    got, _, body = request(port, path)
    assert got == status, path
    assert b"outside" not in body and b"secret" not in body
    assert "Traceback" not in capsys.readouterr().err  # the server's stderr is what the user sees


@pytest.mark.parametrize("method,path,mime", [
    ("GET", "/", "text/html"), ("HEAD", "/", "text/html"), ("GET", "/withindex/", "text/html"),
    ("GET", "/app.mjs", "text/javascript"), ("GET", "/app.js", "text/javascript"),
    ("GET", "/m.wasm", "application/wasm"), ("GET", "/d.onnx", "application/octet-stream"),
    ("GET", "/m.json", "application/json"),
    ("GET", "/in.txt", "text/plain"),                   # a symlink that stays inside is still served
])
def test_served_files(port, method, path, mime):
    status, headers, body = request(port, path, method)
    assert status == 200
    assert headers["Content-Type"].split(";")[0] == mime
    assert (headers["X-Content-Type-Options"], headers["Cache-Control"]) == ("nosniff", "no-cache")
    coop_coep = headers["Cross-Origin-Opener-Policy"], headers["Cross-Origin-Embedder-Policy"]
    assert coop_coep == ("same-origin", "require-corp")
    assert (body == b"") == (method == "HEAD")


AN_HOUR_AHEAD = email.utils.formatdate(time.time() + 3600, usegmt=True)


@pytest.mark.parametrize("kwargs,status", [
    ({"path": "/note.txt", "headers": [f"If-Modified-Since: {AN_HOUR_AHEAD}"]}, 304),
    ({"path": "/missing"}, 404), ({"path": "/.%00./x"}, 400), ({"host": "evil.com"}, 421), ({"method": "POST"}, 501),
], ids=["not-modified", "missing", "nul", "evil-host", "post"])
def test_nosniff_on_every_response(port, kwargs, status):
    got, headers, _ = request(port, **kwargs)
    assert (got, headers["X-Content-Type-Options"]) == (status, "nosniff")


@pytest.mark.parametrize("host,status", [
    ("127.0.0.1:{port}", 200), ("localhost:{port}", 200), ("LOCALHOST:{port}", 200),  # must keep working
    ("evil.com", 421), ("evil.com:{port}", 421), ("127.0.0.1:1", 421), ("127.0.0.1", 421),
    ("localhost.evil.com:{port}", 421), ("[::1]:{port}", 421), (None, 400),
])
def test_host_header(port, host, status):
    assert request(port, host=host)[0] == status


@pytest.mark.parametrize("sent", [b"", b"GET / HTT", b"GET / HTTP/1.1\r\nHost: 127.0.0.1"])
def test_idle_connection_is_closed(site, sent):
    server = make_server(site, 0, timeout=0.5)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=5) as s:
            s.sendall(sent)
            start = time.monotonic()
            assert s.recv(1024) == b""  # EOF, not a socket.timeout from our side
            assert time.monotonic() - start < 3
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def busy_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.mark.parametrize("port,message", [
    ("99999", "port 99999: must be between 0 and 65535"), ("-1", "port -1: must be between 0 and 65535"),
    ("busy", "is in use (try --port"),
])
def test_bad_port_is_one_line(site, busy_port, port, message):
    port = str(busy_port) if port == "busy" else port
    r = subprocess.run([sys.executable, "-m", "exporter", "serve", str(site), "--port", port],
                       capture_output=True, text=True, timeout=60, check=False)
    assert r.returncode != 0
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("error: ") and message in r.stderr
