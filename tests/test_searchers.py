"""kb.search.searchers: a bounded pool of searchers, each lent to one thread at a time."""

from __future__ import annotations

import threading
import time

import pytest

from kb.search.searchers import SearcherPool


class FakeSearcher:
    def __init__(self, number: int):
        self.number = number
        self.closed = False
        self.users = 0

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def opened() -> list[FakeSearcher]:
    return []


def pool_of(opened: list[FakeSearcher], size: int) -> SearcherPool:
    def open_one() -> FakeSearcher:
        searcher = FakeSearcher(len(opened))
        opened.append(searcher)
        return searcher

    return SearcherPool(open_one, size)


def test_a_searcher_is_reused_rather_than_opened_again(opened):
    pool = pool_of(opened, 2)
    with pool.searcher() as first:
        pass
    with pool.searcher() as again:
        assert again is first
    assert len(opened) == 1


def test_never_more_searchers_than_the_size_and_never_two_users_at_once(opened):
    """GIVEN a pool of 2 and 8 threads searching at once
    THEN at most 2 searchers exist, no searcher is used by two threads at the same time,
    and every thread gets its turn."""
    pool = pool_of(opened, 2)
    done = []
    problems = []

    def work(n: int) -> None:
        for _ in range(20):
            with pool.searcher() as searcher:
                searcher.users += 1
                if searcher.users != 1:
                    problems.append("shared")
                time.sleep(0.0005)
                searcher.users -= 1
        done.append(n)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(done) == list(range(8))
    assert not problems
    assert len(opened) == 2 and pool.opened == 2


def test_closing_closes_idle_searchers_now_and_lent_ones_on_return(opened):
    pool = pool_of(opened, 2)
    with pool.searcher() as lent:
        with pool.searcher() as other:
            pass  # other goes back to the pool: idle
        pool.close()
        assert other.closed and not lent.closed
    assert lent.closed


def test_a_thread_waiting_on_a_closed_pool_is_not_left_waiting(opened):
    pool = pool_of(opened, 1)
    got = threading.Event()

    def wait_for_one() -> None:
        with pool.searcher():
            got.set()

    with pool.searcher():
        waiter = threading.Thread(target=wait_for_one)
        waiter.start()
        time.sleep(0.05)
        assert not got.is_set()  # all lent out: it waits
        pool.close()
    waiter.join(timeout=10)
    assert got.is_set()


def test_an_opening_that_fails_frees_its_place(opened):
    calls = []

    def failing() -> FakeSearcher:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("index gone")
        return FakeSearcher(len(calls))

    pool = SearcherPool(failing, 1)
    with pytest.raises(OSError):
        with pool.searcher():
            pass
    with pool.searcher() as searcher:
        assert searcher.number == 2
