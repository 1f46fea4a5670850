"""kb.background.BackgroundLoop: the thread the courier, applier, sweeper, watcher and vector
worker run in.  Real threads; each test waits on events with a generous deadline (never on
a fixed sleep), and the loop's interval is a minute wherever a test must see that a wake,
not the interval, ended the wait."""

from __future__ import annotations

import ast
import logging
import sys
import threading
from pathlib import Path

import pytest

from kb.background import BackgroundLoop
from kb.background import LoopFinished

DEADLINE = 10.0  # seconds a test waits for the thread before it fails
MINUTE = 60.0


class Rounds:
    """A round that counts itself and lets a test wait for the n-th one."""

    def __init__(self, fail_on: tuple[int, ...] = ()):
        self.count = 0
        self.fail_on = fail_on
        self.threads: list[str] = []
        self._changed = threading.Condition()

    def __call__(self) -> int:
        with self._changed:
            self.count += 1
            self.threads.append(threading.current_thread().name)
            self._changed.notify_all()
            if self.count in self.fail_on:
                raise RuntimeError(f"round {self.count} broke")
        return 42  # an owner's count, not a wait: ignored

    def wait_for(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self.count >= count, DEADLINE), \
                f"{self.count} round(s) ran, {count} expected"


@pytest.fixture
def make_loop():
    """Loops made by a test, stopped after it whatever happened."""
    made: list[BackgroundLoop] = []

    def make(run_round, interval=MINUTE, **options) -> BackgroundLoop:
        options.setdefault("failure", "test round failed")
        loop = BackgroundLoop("kb-test-loop", run_round, interval, **options)
        made.append(loop)
        return loop

    yield make
    for loop in made:
        loop.stop(DEADLINE)


def loop_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "kb-test-loop"]


def wait_until_ended() -> None:
    """Until no loop thread of these tests is alive (a loop that ended by itself)."""
    for thread in loop_threads():
        thread.join(DEADLINE)
    assert loop_threads() == []


def test_start_runs_a_round_at_once_in_one_named_daemon_thread(make_loop):
    """GIVEN a loop WHEN it is started, twice, from two threads THEN one named daemon thread
    runs its first round at once (not after the interval), and it reports running."""
    rounds = Rounds()
    loop = make_loop(rounds)
    assert not loop.running
    other = threading.Thread(target=loop.start)
    other.start()
    loop.start()
    other.join(DEADLINE)
    rounds.wait_for(1)
    assert loop.running
    assert [thread.daemon for thread in loop_threads()] == [True]
    assert rounds.threads == ["kb-test-loop"]


def test_wake_ends_the_wait_and_a_wake_during_a_round_is_not_lost(make_loop):
    """GIVEN a loop waiting its one-minute interval WHEN it is woken THEN the next round runs
    now; a wake that arrives while a round runs gives one more round after it."""
    in_round, release = threading.Event(), threading.Event()
    rounds = Rounds()

    def held_round():
        rounds()
        if rounds.count == 2:  # the woken round holds until the test has woken it again
            in_round.set()
            assert release.wait(DEADLINE)

    loop = make_loop(held_round)
    loop.start()
    rounds.wait_for(1)
    loop.wake()
    assert in_round.wait(DEADLINE)
    loop.wake()  # during round 2
    release.set()
    rounds.wait_for(3)


def test_a_failed_round_is_logged_on_the_owners_logger_and_the_loop_goes_on(make_loop, caplog):
    """GIVEN a round that raises WHEN the loop runs it THEN the failure is logged with its
    traceback, on the logger the owner gave, saying when it retries; the next round runs."""
    owner = logging.getLogger("kb.test_owner")
    rounds = Rounds(fail_on=(1,))
    caplog.set_level(logging.ERROR, logger="kb.test_owner")
    loop = make_loop(rounds, interval=0.01, failure="test deliveries failed", log=owner)
    loop.start()
    rounds.wait_for(3)
    failures = [record for record in caplog.records if record.name == "kb.test_owner"]
    assert len(failures) == 1
    assert failures[0].getMessage() == "test deliveries failed; retrying in 0 s"
    assert failures[0].exc_info[0] is RuntimeError
    assert loop.running


def test_next_wait_sets_the_pace_and_its_failure_is_the_rounds(make_loop, caplog):
    """GIVEN a one-minute interval and a `next_wait` that says 0.01 s WHEN the loop runs
    THEN rounds follow each other at that pace; when `next_wait` raises, that is logged as
    the round's failure (and the wait is the interval, so no more rounds)."""
    rounds = Rounds()
    asked = []

    def next_wait() -> float:
        asked.append(rounds.count)
        if len(asked) == 3:
            raise ConnectionError("database restarting")
        return 0.01

    caplog.set_level(logging.ERROR, logger="kb.background")
    loop = make_loop(rounds, next_wait=next_wait)
    loop.start()
    rounds.wait_for(3)
    loop.stop(DEADLINE)
    assert asked == [1, 2, 3]
    assert rounds.count == 3
    assert [record.getMessage() for record in caplog.records] == ["test round failed; retrying in 60 s"]


def test_stop_waits_for_the_round_in_progress_and_ends_the_thread(make_loop):
    """GIVEN a round in progress that checks `stopping` WHEN the loop is stopped THEN stop
    returns once the round has ended and the thread is gone; no round runs after it."""
    started, seen_stopping = threading.Event(), threading.Event()
    loop: BackgroundLoop

    def long_round():
        started.set()
        while not loop.stopping:
            threading.Event().wait(0.005)
        seen_stopping.set()

    loop = make_loop(long_round)
    loop.start()
    assert started.wait(DEADLINE)
    loop.stop(DEADLINE)
    assert seen_stopping.is_set()
    assert not loop.running and loop.stopping
    assert loop_threads() == []


def test_a_stopped_loop_starts_again(make_loop):
    """GIVEN a stopped loop WHEN it is started again THEN a new thread runs rounds."""
    rounds = Rounds()
    loop = make_loop(rounds)
    loop.start()
    rounds.wait_for(1)
    loop.stop(DEADLINE)
    loop.start()
    rounds.wait_for(2)
    assert loop.running and not loop.stopping


def test_loop_finished_ends_the_loop_quietly(make_loop, caplog):
    """GIVEN a round that raises LoopFinished (its work is gone) WHEN it runs THEN the thread
    ends without an error logged and without another round; start runs it again."""
    rounds = Rounds()

    def finishing_round():
        rounds()
        raise LoopFinished

    loop = make_loop(finishing_round, interval=0.01)
    loop.start()
    rounds.wait_for(1)
    wait_until_ended()
    assert not loop.running and rounds.count == 1
    assert caplog.records == []
    loop.start()
    rounds.wait_for(2)


def test_a_wait_of_its_own_gets_the_seconds_and_sleep_ends_on_wake(make_loop):
    """GIVEN a loop with a wait of its own (the applier's LISTEN) that falls back to sleep
    WHEN the loop waits THEN it is given the interval, and a wake ends its sleep."""
    rounds = Rounds()
    waits = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        loop.sleep(seconds)

    loop = make_loop(rounds, wait=wait)
    loop.start()
    rounds.wait_for(1)
    loop.wake()
    rounds.wait_for(2)
    assert waits[:1] == [MINUTE]


def test_a_round_may_stop_its_own_loop(make_loop):
    """GIVEN a round that stops its own loop (an owner's stop called from the thread)
    WHEN it runs THEN stop does not try to join the thread it runs in, and the loop ends."""
    rounds = Rounds()
    loop: BackgroundLoop

    def stopping_round():
        rounds()
        loop.stop(DEADLINE)

    loop = make_loop(stopping_round, interval=0.01)
    loop.start()
    rounds.wait_for(1)
    wait_until_ended()
    assert rounds.count == 1 and not loop.running


def test_the_module_stays_on_the_ground_floor():
    """GIVEN kb/background.py WHEN its imports are read THEN they are the standard library's
    only, so every wing (store, search, the web) may use it."""
    source = Path(__file__).resolve().parents[1] / "kb" / "background.py"
    imported = set()
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= set(sys.stdlib_module_names) | {"__future__"}, imported
