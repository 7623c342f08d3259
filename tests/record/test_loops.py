"""pyHanko's work runs from any thread, also one whose event loop is already running."""

import asyncio
import threading

from consent.record import loops


async def _answer() -> int:
    await asyncio.sleep(0)
    return 42


def test_outside_a_loop_the_work_runs_in_this_thread():
    assert loops.call(threading.get_ident) == threading.get_ident()
    assert loops.run(_answer()) == 42


def test_inside_a_running_loop_the_work_runs_on_a_thread_of_its_own():
    async def inside() -> tuple[int, int, int]:
        return loops.call(threading.get_ident), threading.get_ident(), loops.run(_answer())

    elsewhere, here, answer = asyncio.run(inside())
    assert elsewhere != here
    assert answer == 42
