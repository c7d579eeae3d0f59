"""Run a synchronous route handler in a worker thread, as an ``async`` handler.

Litestar wraps a handler declared with ``sync_to_thread=True`` once per registration; when
several handlers share a path (``GET`` and ``PATCH`` of one URL), the first one is wrapped twice
and answers a coroutine (seen with Litestar 2.25). Handlers on a shared path are therefore
declared ``async`` through :func:`threaded`, which keeps the signature Litestar reads.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from litestar.concurrency import sync_to_thread

__all__ = ["threaded"]

P = ParamSpec("P")
T = TypeVar("T")


def threaded(function: Callable[P, T]) -> Callable[P, Awaitable[T]]:
    """``function`` as a coroutine function running it in the thread pool (the facade's
    calls block on the database)."""

    @functools.wraps(function)
    async def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return await sync_to_thread(function, *args, **kwargs)

    return run
