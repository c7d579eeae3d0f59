"""A month-end worker that stops at one chosen point once, so a test can SIGKILL it there.

``CANTEEN_TEST_PAUSE`` says where (once, while ``CANTEEN_TEST_PAUSE_MARKER`` does not exist:
the worker creates that file, then sleeps so the test can kill it):

* ``batch:CODE:INDEX``: after billing batch INDEX of commune CODE was committed and its result
  stored, before the message is acknowledged (Celery's ``task_postrun`` signal);
* ``sepa:CODE``: when the direct-debit file of commune CODE was written, before the debit's
  transaction commits (the SEPA adapter's ``collect``).

Run as ``python -m tests.jobs._pausing_worker`` with the jobs' environment (queue, brokers).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from celery.signals import task_postrun

from canteen_adapters.jobs.app import app, default_queue
from canteen_adapters.payment import sepa

PAUSE = os.environ.get("CANTEEN_TEST_PAUSE", "")
MARKER = Path(os.environ.get("CANTEEN_TEST_PAUSE_MARKER", "/nonexistent/marker"))


def _pause() -> None:
    if MARKER.exists():
        return
    MARKER.write_text(str(os.getpid()), encoding="utf-8")
    time.sleep(120)  # the test kills the worker meanwhile


@task_postrun.connect
def _after_task(sender: Any = None, args: Any = None, **_: Any) -> None:
    kind, _, rest = PAUSE.partition(":")
    if kind != "batch" or sender is None or sender.name != "canteen.month_end.bill_batch":
        return
    code, _, index = rest.partition(":")
    if args and args[0]["code"] == code and args[3] == int(index):
        _pause()


_collect = sepa.SepaDirectDebit.collect


def _collect_then_pause(self: Any, *args: Any, **kwargs: Any) -> Any:
    result = _collect(self, *args, **kwargs)
    kind, _, code = PAUSE.partition(":")
    if kind == "sepa" and result[1] is not None and f"pain008-{code}-" in result[1].name:
        _pause()
    return result


sepa.SepaDirectDebit.collect = _collect_then_pause  # type: ignore[method-assign]

if __name__ == "__main__":
    app.worker_main(
        [
            "worker",
            f"--queues={default_queue()}",
            "--pool=solo",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
