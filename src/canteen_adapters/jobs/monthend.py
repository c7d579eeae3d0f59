"""Queue a month-end run and follow it through the result backend (``canteen month-end``).

:func:`queue_month_end` sends one :func:`~canteen_adapters.jobs.tasks.plan_commune` per commune;
:func:`follow` polls each commune's task id until every commune has its report, calling back on
every change of a commune's status (progress lines) and returning the reports. Nothing here
runs a job: workers do, and the run goes on if the command that queued it stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from typing import Any

import attrs
from celery import Celery
from celery.result import AsyncResult, GroupResult

from canteen_adapters.jobs.app import app as default_app
from canteen_adapters.jobs.app import default_queue
from canteen_adapters.jobs.registry import Commune
from canteen_adapters.jobs.report import STEPS, CommuneReport, describe_error_fr
from canteen_adapters.jobs.tasks import PROGRESS, plan_commune
from canteen_core.domain.errors import InvalidInputError
from canteen_core.services.billing import parse_period

__all__ = ["MonthEndRun", "Status", "follow", "queue_month_end"]

#: Households per billing task unless the command says otherwise.
DEFAULT_BATCH = 500


@attrs.frozen(kw_only=True)
class MonthEndRun:
    """A queued run: its period, queue and each commune's task id (its report's key)."""

    period: str
    queue: str
    communes: tuple[tuple[Commune, str], ...]


@attrs.frozen(kw_only=True)
class Status:
    """Where one commune's month-end stands: a French ``text``, and its report when done."""

    commune: Commune
    text: str
    report: CommuneReport | None = None

    @property
    def done(self) -> bool:
        """Whether the commune's month-end has finished (well or not)."""
        return self.report is not None


def queue_month_end(
    communes: Iterable[Commune],
    period: str,
    *,
    queue: str | None = None,
    batch_size: int = DEFAULT_BATCH,
    collection_date: date | None = None,
    celery: Celery | None = None,
) -> MonthEndRun:
    """Queue the month-end of ``period`` (``"2023-09"``) for ``communes``.

    ``batch_size``: households per billing task; ``collection_date``: the direct-debit date
    (default: the earliest the SEPA notice allows, per commune). Raises
    :class:`InvalidInputError` for a bad period or batch size before queueing anything.
    """
    parse_period(period)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise InvalidInputError(f"must be a positive integer, got {batch_size!r}", path="batch")
    target = queue or default_queue()
    options: dict[str, Any] = {
        "batch_size": batch_size,
        "collection_date": None if collection_date is None else collection_date.isoformat(),
    }
    celery = celery or default_app
    queued: list[tuple[Commune, str]] = []
    for commune in communes:
        sent = celery.send_task(
            plan_commune.name, args=[commune.to_message(), period, options], queue=target
        )
        queued.append((commune, str(sent.id)))
    return MonthEndRun(period=period, queue=target, communes=tuple(queued))


def _progress_text(info: Mapping[str, Any], celery: Celery) -> str:
    step = str(info.get("step", ""))
    label = STEPS.get(step, step)
    group_id = info.get("group")
    if step == "billing" and group_id:
        batches = int(info.get("batches", 0))
        restored = GroupResult.restore(str(group_id), app=celery)
        done = restored.completed_count() if restored is not None else 0
        households = int(info.get("households", 0))
        return f"{label} : {done}/{batches} lots ({households} foyers)"
    return f"{label} en cours"


def status_of(commune: Commune, task_id: str, *, celery: Celery | None = None) -> Status:
    """The status of ``commune``'s month-end, from its task id in the result backend."""
    celery = celery or default_app
    result: AsyncResult[Any] = AsyncResult(task_id, app=celery)
    state = result.state
    if state == "PENDING":
        return Status(commune=commune, text="en attente d'un worker")
    if state in ("STARTED", "RETRY", "RECEIVED"):
        return Status(commune=commune, text="préparation")
    if state == PROGRESS:
        info = result.info if isinstance(result.info, Mapping) else {}
        return Status(commune=commune, text=_progress_text(info, celery))
    if state == "SUCCESS" and isinstance(result.result, Mapping):
        report = CommuneReport.from_dict(result.result)
        return Status(commune=commune, text="terminé" if report.ok else "échec", report=report)
    # FAILURE (a batch failed beyond its retries: Celery's chord error) or an unknown state.
    error = result.result
    why = describe_error_fr(error) if isinstance(error, BaseException) else f"état {state}"
    report = CommuneReport(commune=commune.code, name=commune.name, period="").failed(
        "billing", f"le traitement a échoué ({why})"
    )
    return Status(commune=commune, text="échec", report=report)


def follow(
    run: MonthEndRun,
    *,
    on_change: Callable[[Status], None] = lambda status: None,
    timeout: float | None = None,
    interval: float = 0.5,
    celery: Celery | None = None,
) -> dict[str, CommuneReport]:
    """Wait for every commune of ``run``; ``on_change`` gets each new status. Returns the
    reports by commune code; :class:`TimeoutError` after ``timeout`` seconds (the run goes
    on in the workers)."""
    deadline = None if timeout is None else time.monotonic() + timeout
    last: dict[str, str] = {}
    reports: dict[str, CommuneReport] = {}
    while True:
        for commune, task_id in run.communes:
            if commune.code in reports:
                continue
            status = status_of(commune, task_id, celery=celery)
            if status.report is not None:
                reports[commune.code] = attrs.evolve(status.report, period=run.period)
                status = attrs.evolve(status, report=reports[commune.code])
            if last.get(commune.code) != status.text or status.done:
                last[commune.code] = status.text
                on_change(status)
        if len(reports) == len(run.communes):
            return reports
        if deadline is not None and time.monotonic() > deadline:
            raise TimeoutError(f"{len(run.communes) - len(reports)} communes not finished")
        time.sleep(interval)
