"""Shared fixtures: a small trained digits bundle, a built site, and that site served by the
real `latent-explorer serve` on a free 127.0.0.1 port, plus the browser to run it in."""
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

DEBIAN_CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium where it exists (Playwright cannot download its own here), else
    Playwright's own browser. The flags keep Chromium off this machine's closed network."""
    args = {**browser_type_launch_args}
    exe = os.environ.get("LATENT_EXPLORER_CHROMIUM") or (DEBIAN_CHROMIUM if os.path.exists(DEBIAN_CHROMIUM) else None)
    if exe:
        args["executable_path"] = exe
    args["args"] = [*args.get("args", []), "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run"]
    return args


ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted(p.parent.name for p in (ROOT / "models").glob("*/manifest.json"))


# The test bundles every site fixture holds, in index order (test-conv also with compressed weights)
TEST_BUNDLES = ["test-conv", "test-conv-float16", "test-conv-int8", "test-digits"]


@pytest.fixture(scope="session")
def bundles_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("bundles")


def short_run(tmp_path_factory, name, **model):
    """A short digits training run (enough for parity: the numbers need not be good)."""
    from exporter.configs import VAEConfig
    from exporter.train.image import TrainConfig, train
    run = tmp_path_factory.mktemp("runs") / name
    train(TrainConfig(epochs=3), VAEConfig(**model), run, progress=False)
    return run


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory):
    return short_run(tmp_path_factory, "digits")


@pytest.fixture(scope="session")
def digits_bundle(digits_run, bundles_dir):
    from exporter.export.image import export_run
    export_run(digits_run, bundles_dir / "test-digits", sliders=5, name="test-digits")
    return bundles_dir / "test-digits"


@pytest.fixture(scope="session")
def conv_bundle(tmp_path_factory, bundles_dir):
    """The conv architecture through the same gate (8x8 digits keep it fast). Z = 6, not the
    MLP's 8, so a point of one test bundle is the wrong length for the other."""
    from exporter.export.image import export_run
    run = short_run(tmp_path_factory, "conv", arch="conv", hidden=64, channels=8, latent_size=6)
    export_run(run, bundles_dir / "test-conv", sliders=4, name="test-conv")
    for weights in ("float16", "int8"):  # the browser must equal Python on the file that ships, whatever its weights
        export_run(run, bundles_dir / f"test-conv-{weights}", sliders=4, name=f"test-conv-{weights}", weights=weights)
    return bundles_dir / "test-conv"


@pytest.fixture(scope="session")
def site(digits_bundle, conv_bundle, tmp_path_factory):
    """Test bundles first, then every shipped bundle in models/, as the demo does."""
    from exporter.site.build import build
    out = tmp_path_factory.mktemp("site") / "site"
    build(out, [digits_bundle.parent, ROOT / "models"] if SHIPPED else [digits_bundle.parent])
    return out


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    root: Path


@pytest.fixture(scope="session")
def http_server(site):
    yield from serve_site(site, free_port())


def serve_site(site, port):
    """Run the real `latent-explorer serve`; yield a Server once it answers, stop it after."""
    proc = subprocess.Popen([sys.executable, "-m", "exporter", "serve", str(site), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(url, timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None:
                    break
                time.sleep(0.1)
        else:
            proc.kill()
        if proc.poll() is not None:
            raise RuntimeError(f"server did not start: {proc.stderr.read()}")
        yield Server(url, site)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture
def console_errors(page):
    """Collects console errors and uncaught page errors; tests assert it stays empty."""
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors


def pytest_report_header(config):
    exe = os.environ.get("LATENT_EXPLORER_CHROMIUM") or (DEBIAN_CHROMIUM if shutil.which(DEBIAN_CHROMIUM) else None)
    return f"browser: {exe or 'playwright default'}"


@pytest.fixture
def cli(capsys):
    """Run the command line in-process: (exit code, stdout, stderr)."""
    from exporter.cli import main as cli_main

    def run(*args):
        code = cli_main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, out, err
    return run
