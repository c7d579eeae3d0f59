"""Keep the garbage collector off the heap a long-running process built at start-up.

A canteen process imports some hundred thousand objects (modules, functions, classes, the
deployment) that live as long as it does. CPython's collector goes through all of them at
every full collection, and a billing run or a busy server allocates enough to trigger one
every few thousand invoices or requests: about a sixth of a billing run's CPU went there.
:func:`freeze_startup_heap`, called once start-up is over, moves them to the collector's
permanent generation (:func:`gc.freeze`), so a full collection looks only at what the work
made since. Objects still die as before when nothing refers to them any more; only a cycle
among frozen objects waits for :func:`gc.unfreeze`. A collection runs first, so start-up
garbage is freed, not frozen.

It is the process's decision, not the library's: ``canteen serve`` (every server process)
and ``canteen worker`` (every worker process) freeze for good once started, ``canteen bill``
for the length of its run (:func:`startup_heap_frozen`); an application that embeds canteen
in a long-running process may call :func:`freeze_startup_heap` once it has started, and a
notebook or a test process should not (what they make afterwards is not start-up state).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["freeze_startup_heap", "startup_heap_frozen"]


def freeze_startup_heap() -> None:
    """Collect the start-up garbage, then exempt every object still alive from later
    collections (:func:`gc.freeze`). Cheap: one collection, about 50 ms."""
    gc.collect()
    gc.freeze()


@contextmanager
def startup_heap_frozen() -> Iterator[None]:
    """:func:`freeze_startup_heap` for the ``with`` block only: a command that runs one long
    job (``canteen bill``) in a process that may go on (a test calling the command in process)
    gives the objects back to the collector afterwards. Inside a process already frozen, it
    changes nothing."""
    if gc.get_freeze_count():
        yield
        return
    freeze_startup_heap()
    try:
        yield
    finally:
        gc.unfreeze()
