"""The start-up heap freeze of long-running processes (``canteen_adapters.heap``).

Each check runs in a child interpreter: freezing the test process would keep every test's
objects alive until it ends.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_start_up_garbage_is_freed_and_what_lives_is_frozen() -> None:
    _run(
        """
        import gc, weakref
        from canteen_adapters.heap import freeze_startup_heap

        class Node:
            pass

        cycle = Node()
        cycle.itself = cycle
        probe = weakref.ref(cycle)
        del cycle
        alive = Node()
        freeze_startup_heap()
        assert probe() is None, "start-up garbage was frozen instead of freed"
        assert gc.get_freeze_count() > 1_000, gc.get_freeze_count()
        # Frozen: no generation the collector scans holds it any more.
        assert not any(thing is alive for thing in gc.get_objects()), "not frozen"
        """
    )


def test_work_after_the_freeze_is_still_collected() -> None:
    _run(
        """
        import gc, weakref
        from canteen_adapters.heap import freeze_startup_heap

        freeze_startup_heap()

        class Node:
            pass

        cycle = Node()
        cycle.itself = cycle
        probe = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert probe() is None, "a cycle made after the freeze was not collected"
        """
    )


def test_a_month_end_worker_freezes_its_heap_before_forking() -> None:
    out = _run(
        """
        import gc
        from canteen_adapters.jobs.tasks import _preload_adapters

        before = gc.get_freeze_count()
        _preload_adapters()
        print(before, gc.get_freeze_count())
        """
    )
    before, after = (int(part) for part in out.split())
    assert before == 0
    assert after > 10_000


def test_a_command_freezes_for_its_run_only_and_never_thaws_a_frozen_process() -> None:
    _run(
        """
        import gc
        from canteen_adapters.heap import freeze_startup_heap, startup_heap_frozen

        with startup_heap_frozen():
            assert gc.get_freeze_count() > 1_000
        assert gc.get_freeze_count() == 0, "the run's freeze outlived it"
        freeze_startup_heap()
        frozen = gc.get_freeze_count()
        with startup_heap_frozen():
            pass
        assert gc.get_freeze_count() == frozen, "a command thawed a server's frozen heap"
        """
    )
