"""pyHanko's work runs from any thread, also one whose event loop is already running."""

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from consent.record import loops

T = TypeVar("T")


def on_a_fresh_thread(check: Callable[[], T]) -> T:
    """Run `check` on a new thread, where no event loop runs: the test's own thread may run one
    (Playwright's sync API keeps a loop running in a worker once a browser test started it)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(check).result()


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


def test_outside_a_loop_the_work_runs_in_this_thread():
    def check() -> None:
        assert loops.call(threading.get_ident) == threading.get_ident()
        assert loops.run(_answer()) == 42

    on_a_fresh_thread(check)


def test_inside_a_running_loop_the_work_runs_on_a_thread_of_its_own():
    async def inside() -> tuple[int, int, int]:
        return loops.call(threading.get_ident), threading.get_ident(), loops.run(_answer())

    elsewhere, here, answer = on_a_fresh_thread(lambda: asyncio.run(inside()))
    assert elsewhere != here
    assert answer == 42
