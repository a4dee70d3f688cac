"""A static file server for built sites: 127.0.0.1 only, correct MIME types, and COOP/COEP
headers so the page is cross-origin isolated and onnxruntime-web may use 2 wasm threads.

It is the standard library's SimpleHTTPRequestHandler with its sharp edges filed off, because a
user may point it at any folder and any web page they visit can make their browser talk to it:
- only files whose resolved path is inside the resolved site folder are served (no symlink escape);
- no folder listings, and nothing whose path has a segment starting with "." (.git, .env, ...);
- a NUL byte in the path is a 400, not a traceback and an empty reply;
- only Host 127.0.0.1:PORT or localhost:PORT is answered (421 otherwise): a DNS-rebinding page
  would send its own host name;
- idle connections are closed after IDLE_TIMEOUT instead of holding a thread forever;
- every response says X-Content-Type-Options: nosniff.
"""
import errno
import functools
import http.server
import mimetypes
import os
import sys
import urllib.parse
from http import HTTPStatus

from ..errors import LatentExplorerError

HOST = "127.0.0.1"
IDLE_TIMEOUT = 15  # seconds a connection may stay silent, mid-request or between requests
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".onnx": "application/octet-stream", ".json": "application/json", ".html": "text/html"}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**mimetypes.types_map, **TYPES}
    isolate = True  # send COOP/COEP; False shows how a host without them behaves (1 thread)
    cors = None     # an origin (or "*") whose pages may load the element and bundles from here
    timeout = IDLE_TIMEOUT  # socketserver applies it to every read and write on the connection

    def parse_request(self):
        if not super().parse_request():
            return False
        host, port = self.headers.get("Host"), self.server.server_address[1]
        if host is None:
            self.send_error(HTTPStatus.BAD_REQUEST, "Missing Host header")
            return False
        names = ("127.0.0.1", "localhost")
        allowed = {f"{name}:{port}" for name in names} | (set(names) if port == 80 else set())
        if host.lower() not in allowed:
            self.send_error(HTTPStatus.MISDIRECTED_REQUEST, "Unknown Host")
            return False
        return True

    def send_head(self):
        # The checks run on the decoded URL path: that is what translate_path maps to a file.
        url_path = urllib.parse.unquote(self.path.split("?", 1)[0].split("#", 1)[0])
        if "\0" in url_path:  # would make open() raise ValueError, which the stdlib does not catch
            self.send_error(HTTPStatus.BAD_REQUEST, "NUL byte in path")
            return None
        if any(part.startswith(".") for part in url_path.split("/")) or not self.inside(self.translate_path(self.path)):
            self.send_error(HTTPStatus.NOT_FOUND, "File not found")
            return None
        return super().send_head()

    def inside(self, path):
        """True if `path` (for a folder: its index.html, which is what would be served) is a file
        whose resolved path lies inside the resolved site folder."""
        try:
            if os.path.isdir(path):
                path = os.path.join(path, "index.html")
            real = os.path.realpath(path)
            return os.path.isfile(real) and os.path.commonpath([self.directory, real]) == self.directory
        except ValueError:  # a name the file system cannot represent (e.g. a lone UTF-16 surrogate)
            return False

    def list_directory(self, path):
        # No listings: they would show every file the site folder holds. send_head already 404s a
        # folder without index.html; this catches one whose index.html vanished in between.
        self.send_error(HTTPStatus.NOT_FOUND, "File not found")

    def end_headers(self):
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        if self.cors:  # module scripts, wasm and bundles fetched by a page of another origin
            self.send_header("Access-Control-Allow-Origin", self.cors)
            self.send_header("Vary", "Origin")
        self.send_header("Cross-Origin-Resource-Policy", "cross-origin" if self.cors else "same-origin")
        self.send_header("Cache-Control", "no-cache")  # revalidate: a rebuilt bundle shows at once
        self.send_header("X-Content-Type-Options", "nosniff")  # a .txt is never run as a script
        super().end_headers()

    def log_message(self, fmt, *args):
        pass  # quiet: the page's own console is where problems show


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        """A browser that drops a connection mid-download is not an error worth a traceback."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def check_origin(origin):
    """`*` or a bare origin like http://127.0.0.1:4000 (scheme, host, optional port; no path)."""
    if origin is None or origin == "*":
        return origin
    parts = urllib.parse.urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query or parts.fragment:
        raise LatentExplorerError(f"--cors {origin!r}: give an origin such as https://blog.example.org "
                                  "(scheme and host, no path), or *")
    return origin


def make_server(directory, port=8000, isolate=True, timeout=IDLE_TIMEOUT, cors=None):
    """A server on 127.0.0.1:port (0: any free port), not yet serving. Raises LatentExplorerError
    for a bad or busy port or a bad CORS origin."""
    if not 0 <= port <= 65535:  # bind() would raise OverflowError with a traceback
        raise LatentExplorerError(f"port {port}: must be between 0 and 65535")
    cls = type("Handler", (Handler,), {"isolate": isolate, "timeout": timeout, "cors": check_origin(cors)})
    # The containment check compares resolved paths, so the root must be resolved too.
    handler = functools.partial(cls, directory=os.path.realpath(directory))
    try:
        return Server((HOST, port), handler)
    except OSError as e:
        if e.errno == errno.EADDRINUSE:
            raise LatentExplorerError(f"port {port} is in use (try --port {port + 1 if port < 65535 else 8000}, "
                                      "or --port 0 for any free port)") from None
        raise LatentExplorerError(f"cannot listen on {HOST}:{port}: {e.strerror}") from None


def serve(directory, port=8000, isolate=True, announce=print, cors=None):
    server = make_server(directory, port, isolate, cors=cors)
    announce(f"serving {directory} at http://{HOST}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
