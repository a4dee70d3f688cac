"""A static file server for built sites: 127.0.0.1 only, correct MIME types, and COOP/COEP
headers so the page is cross-origin isolated and onnxruntime-web may use 2 wasm threads."""
import functools
import http.server
import mimetypes

HOST = "127.0.0.1"
TYPES = {".mjs": "text/javascript", ".js": "text/javascript", ".wasm": "application/wasm",
         ".onnx": "application/octet-stream", ".json": "application/json", ".html": "text/html"}


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**mimetypes.types_map, **TYPES}
    isolate = True  # send COOP/COEP; False shows how a host without them behaves (1 thread)

    def end_headers(self):
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
            self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        self.send_header("Cache-Control", "no-cache")  # revalidate: a rebuilt bundle shows at once
        super().end_headers()

    def log_message(self, fmt, *args):
        pass  # quiet: the page's own console is where problems show


def make_server(directory, port=8000, isolate=True):
    cls = Handler if isolate else type("PlainHandler", (Handler,), {"isolate": False})
    return http.server.ThreadingHTTPServer((HOST, port), functools.partial(cls, directory=str(directory)))


def serve(directory, port=8000, isolate=True, announce=print):
    server = make_server(directory, port, isolate)
    announce(f"serving {directory} at http://{HOST}:{server.server_address[1]}/ (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
