"""Run pyHanko's work from any thread, also from one whose event loop is already running.

pyHanko's synchronous functions (and our own `asyncio.run` calls) start an event loop, which
Python refuses inside a running one: an ASGI server's thread, or a test that drives a browser
from the same thread. There the work runs on a short-lived thread of its own instead.
"""

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ParamSpec, TypeVar

T = TypeVar("T")
P = ParamSpec("P")


def call(function: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
    """`function(*args, **kwargs)`, on another thread if this one runs an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to the end from synchronous code, wherever that code runs."""
    return call(asyncio.run, coroutine)
