"""A real waitress (what ``kb serve`` runs) on a free loopback port, in a thread, for tests
that need what Flask's test client skips (the server's file wrapper, its access log)."""

from __future__ import annotations

import socket
import threading
from contextlib import contextmanager


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serving(wsgi_app, threads: int = 2):
    """Serve `wsgi_app` until the block ends; yields the base URL.

    Closing the server closes its sockets while its loop may be waiting in ``select()``,
    which then fails with EBADF: the expected end of the loop at shutdown (WebTest's
    StopableWSGIServer treats it so), not a fault, and no longer reported by pytest as an
    unhandled thread exception."""
    from waitress.server import create_server

    port = free_port()
    server = create_server(wsgi_app, host="127.0.0.1", port=port, threads=threads)
    closing = threading.Event()

    def run() -> None:
        try:
            server.run()
        except OSError:
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, name="test-waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        closing.set()
        server.close()
        thread.join(timeout=10)
