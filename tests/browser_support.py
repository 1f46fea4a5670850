"""What the browser tests share: the Chromium they drive, an app served on a real port, and
a clean folder for their screenshots.  Each test module wraps these in its own fixtures."""

from __future__ import annotations

import logging
import shutil
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from conftest import OUTPUT

CHROMIUM = Path("/usr/bin/chromium")
# Headless, and nothing that reaches for the network this machine does not have (background
# updates, QUIC probes): without these flags Chromium's refused connections slow every start.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
MISSING = f"{CHROMIUM} is missing: install Debian's chromium package to run the browser tests"


@contextmanager
def serving(app) -> Iterator[str]:
    """The app on a free local port, served by werkzeug in a thread (threaded: searches and
    saves overlap, as in a browser); yields its base URL."""
    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


@contextmanager
def launched(sync_playwright) -> Iterator:
    """One headless Chromium for a test module."""
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def screenshot_folder(name: str) -> Path:
    """test-output/<name>/, emptied: the screenshots of this run only."""
    folder = OUTPUT / name
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    return folder
