"""What both benchmarks share: a built site served on a free loopback port, and a Chromium."""
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from exporter.site.build import build  # noqa: E402
from exporter.site.serve import make_server  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


@contextmanager
def served(bundles, isolate=True, pages=None, keep=False):
    """Build a site from `bundles` (plus extra `pages`: name -> html) and serve it; yields its URL
    (with keep=True: its URL and the site's folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "site"
        build(site, bundles)
        for name, html in (pages or {}).items():
            (site / name).write_text(html)
        server = make_server(site, 0, isolate=isolate)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/"
            yield (url, site) if keep else url
        finally:
            server.shutdown()
            server.server_close()


def launch(playwright):
    """Debian's Chromium where it exists, else Playwright's own; kept off the network."""
    exe = CHROMIUM if os.path.exists(CHROMIUM) else None
    return playwright.chromium.launch(executable_path=exe, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"])
