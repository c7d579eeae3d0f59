"""A month-end worker that stops at chosen points, so a test can SIGKILL it there.

``CANTEEN_TEST_PAUSES`` lists the points, ``;``-separated, each ``POINT=MARKER``. The first
worker to reach a point creates its MARKER file (atomically: one worker per point, once), writes
its pid in it and sleeps, so the test can kill it there. Points:

* ``batch:CODE:INDEX``: after billing batch INDEX of commune CODE was committed and its result
  stored, before the message is acknowledged (Celery's ``task_postrun`` signal);
* ``sepa:CODE``: when the direct-debit file of commune CODE was written, before the debit's
  transaction commits (the SEPA adapter's ``collect``).

Run as ``python -m tests.jobs._pausing_worker`` with the jobs' environment (queue, brokers).
"""

from __future__ import annotations

import os
import time
from typing import Any

from celery.signals import task_postrun

from canteen_adapters.jobs.app import app, default_queue
from canteen_adapters.payment import sepa

PAUSES = dict(
    item.split("=", 1) for item in os.environ.get("CANTEEN_TEST_PAUSES", "").split(";") if item
)


def _pause(point: str) -> None:
    marker = PAUSES.get(point)
    if marker is None:
        return
    try:
        descriptor = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return  # another worker (or this one, before) stopped here already
    os.write(descriptor, str(os.getpid()).encode())
    os.close(descriptor)
    time.sleep(120)  # the test kills the worker meanwhile


@task_postrun.connect
def _after_task(sender: Any = None, args: Any = None, **_: Any) -> None:
    if sender is not None and sender.name == "canteen.month_end.bill_batch" and args:
        _pause(f"batch:{args[0]['code']}:{args[3]}")


_collect = sepa.SepaDirectDebit.collect


def _collect_then_pause(self: Any, *args: Any, **kwargs: Any) -> Any:
    result = _collect(self, *args, **kwargs)
    path = result[1]
    if path is not None:
        code = path.name.removeprefix("pain008-").split("-", 1)[0]
        _pause(f"sepa:{code}")
    return result


sepa.SepaDirectDebit.collect = _collect_then_pause  # type: ignore[method-assign]

if __name__ == "__main__":
    app.worker_main(
        [
            "worker",
            f"--queues={default_queue()}",
            "--pool=solo",
            f"--hostname=pausing-{os.getpid()}@%h",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ]
    )
