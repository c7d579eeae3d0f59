"""Month-end as Celery tasks: per commune, billing batches, then debit, reminders and e-mails.

One commune's month-end is three kinds of tasks, on the queue the run was sent to:

1. :func:`plan_commune` opens the commune's deployment, lists its households and replaces
   itself with a chord: one :func:`bill_batch` per batch of households (spread over the
   workers), then :func:`finish_commune`, which inherits the plan's task id (Celery's
   ``Task.replace``), so the result of that one id is the commune's progress, then its report;
2. :func:`bill_batch` bills its households (``canteen.billing.run_month``: the month's
   post-paid run, or on a prepaid deployment the baskets of the month nobody invoiced yet);
3. :func:`finish_commune` bills once more over all households (a sweep: instant when every batch
   did its part, and it bills whatever a lost batch left), writes the direct-debit file,
   sends the reminders due and dispatches the outbox, and returns the commune's report.

Idempotency: a batch is one or more transactions keyed by billing keys, so a batch run twice
(a worker killed after committing, before acknowledging) finds its households already billed;
the direct-debit file's message id is derived from the run (the same file is rewritten if the
step is retried before its transaction committed, and after it committed the invoices are paid
and nothing is collected twice); reminders are sent once per invoice and level; the outbox is
claim-based and the mailer skips a message it already sent. Errors never escape to the other
communes: a failing step is recorded, in French, in the commune's report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from celery import Task, chord
from celery.result import GroupResult
from celery.signals import worker_init

from canteen_adapters.heap import freeze_startup_heap
from canteen_adapters.jobs.app import app
from canteen_adapters.jobs.registry import Commune
from canteen_adapters.jobs.report import CommuneReport, StepReport, describe_error_fr
from canteen_adapters.payment.sepa import SepaFileExistsError
from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import PARIS
from canteen_core.domain.errors import ConfigurationError, StorageError
from canteen_core.domain.mandates import next_target2_business_day
from canteen_core.domain.money import Money
from canteen_core.services import Canteen, build_default_plugin_manager
from canteen_core.services.billing import parse_period

__all__ = ["PROGRESS", "bill_batch", "finish_commune", "open_commune", "plan_commune"]

#: The state of a commune's task id while its month-end runs; ``info`` tells the step.
PROGRESS = "PROGRESS"
#: Retries of a batch or step that met a transient storage error, and the delay between them.
MAX_RETRIES = 3
RETRY_DELAY = 5

_ACTOR = Actor.system()
_NOT_SEPA = re.compile(r"[^A-Za-z0-9-]")


@worker_init.connect
def _preload_adapters(**_: Any) -> None:
    """Import the adapters (SQL storage, mailers, payment providers) once in the worker's main
    process, before its pool forks: each job process starts with them loaded instead of
    spending seconds importing them on its first job. Then freeze that start-up heap
    (:mod:`canteen_adapters.heap`): the forked job processes inherit it frozen, so their
    collections skip it (and leave its memory pages shared with the parent)."""
    build_default_plugin_manager()
    freeze_startup_heap()


def open_commune(commune: Commune) -> Canteen:
    """The commune's canteen (its deployment file; ``$CANTEEN_NOW`` pins the clock).

    On a PostgreSQL shared by many communes the deployment names its tenant (``[storage]
    tenant``), which must be the commune's code: a job never works on another commune's rows.
    """
    from canteen_adapters.cli._operator import cli_clock  # the CLI's clock rule, one place

    canteen = Canteen.open(commune.deployment, clock=cli_clock())
    tenant = canteen.deployment.storage.tenant
    if tenant is not None and tenant != commune.code:
        canteen.close()
        raise ConfigurationError(
            f"le déploiement de la commune {commune.code} travaille pour la commune {tenant} "
            "([storage] tenant) : corrigez le registre ou le déploiement",
            path="storage.tenant",
        )
    return canteen


def _retry_transient(task: Task[Any, Any], error: Exception) -> None:
    """Retry ``task`` later on a transient storage error while retries remain."""
    if isinstance(error, StorageError) and task.request.retries < MAX_RETRIES:
        raise task.retry(exc=error, countdown=RETRY_DELAY, max_retries=MAX_RETRIES)


def _queue(task: Task[Any, Any]) -> str:
    """The queue the running task came from: its follow-up tasks go to the same one."""
    info = task.request.delivery_info or {}
    key = info.get("routing_key")
    return str(key) if key else str(task.app.conf.task_default_queue)


@app.task(bind=True, name="canteen.month_end.plan_commune")
def plan_commune(
    self: Task[Any, Any], commune: dict[str, str], period: str, options: dict[str, Any]
) -> dict[str, Any] | None:
    """Plan a commune's month-end and replace this task by its chord (see the module)."""
    target = Commune.from_message(commune)
    report = CommuneReport(commune=target.code, name=target.name, period=period)
    try:
        parse_period(period)
        with open_commune(target) as canteen:
            ids = sorted(h.id for h in canteen.families.list_households(_ACTOR))
    except Exception as error:
        _retry_transient(self, error)
        return report.failed("billing", error).to_dict()
    size = max(1, int(options.get("batch_size", 500)))
    batches = [ids[i : i + size] for i in range(0, len(ids), size)]
    queue = _queue(self)
    settings = dict(options)
    if not batches:
        alone = finish_commune.s([], commune, period, settings).set(queue=queue)
        return self.replace(alone)  # type: ignore[no-any-return]
    finish = finish_commune.s(commune, period, settings).set(queue=queue)
    header = [
        bill_batch.si(commune, period, batch, index).set(queue=queue)
        for index, batch in enumerate(batches)
    ]
    run = chord(header, finish)
    # Freezing gives the header's group result (the batches), kept for the CLI's progress.
    group_result = run.freeze(self.request.id).parent
    if not isinstance(group_result, GroupResult):  # pragma: no cover - Celery's contract
        raise TypeError("a chord's header freezes to a GroupResult")
    group_result.save()
    self.update_state(
        state=PROGRESS,
        meta={
            "step": "billing",
            "group": group_result.id,
            "batches": len(batches),
            "households": len(ids),
        },
    )
    return self.replace(run)  # type: ignore[no-any-return]


@app.task(bind=True, name="canteen.month_end.bill_batch")
def bill_batch(
    self: Task[Any, Any],
    commune: dict[str, str],
    period: str,
    household_ids: list[str],
    index: int,
) -> dict[str, Any]:
    """Bill one batch of a commune's households; what it issued, or why it failed."""
    target = Commune.from_message(commune)
    try:
        with open_commune(target) as canteen:
            billed = canteen.billing.run_month(_ACTOR, period, household_ids=household_ids)
    except Exception as error:
        _retry_transient(self, error)
        return {"index": index, "error": describe_error_fr(error)}
    return {
        "index": index,
        "issued": [
            [item.household_id, item.number, f"{item.total.amount:.2f}"] for item in billed.issued
        ],
        "already": [*billed.already_billed, *billed.conflicts],
        "empty": list(billed.without_charges),
    }


def _merge_batches(
    results: Sequence[Mapping[str, Any]],
) -> tuple[dict[str, tuple[str, str]], set[str], set[str], list[str]]:
    """Issued invoices by household, households already billed or without charges, errors.

    A batch delivered twice reports its households as issued once and already billed once:
    a household issued by any batch of this run counts as issued."""
    issued: dict[str, tuple[str, str]] = {}
    already: set[str] = set()
    empty: set[str] = set()
    errors: list[str] = []
    for result in results:
        if result.get("error"):
            errors.append(f"lot {int(result.get('index', 0)) + 1} : {result['error']}")
            continue
        for household_id, number, total in result.get("issued", ()):
            issued[household_id] = (number, total)
        already.update(result.get("already", ()))
        empty.update(result.get("empty", ()))
    return issued, already - set(issued), empty, errors


def _billing_step(
    canteen: Canteen, report: CommuneReport, results: Sequence[Mapping[str, Any]]
) -> CommuneReport:
    """Merge the batches' results, then sweep: bill whatever no batch billed."""
    issued, already, empty, errors = _merge_batches(results)
    sweep = canteen.billing.run_month(_ACTOR, report.period)
    for item in sweep.issued:
        issued[item.household_id] = (item.number, f"{item.total.amount:.2f}")
    already = (already | set(sweep.already_billed) | set(sweep.conflicts)) - set(issued)
    total = Money.sum(Money.of(amount) for _, amount in issued.values())
    detail = (
        f"{_count(len(issued), 'facture émise', 'factures émises')} ({total.format_fr()}), "
        f"{_count(len(already), 'foyer déjà facturé', 'foyers déjà facturés')}, "
        f"{_count(len(empty), 'foyer sans consommation', 'foyers sans consommation')}"
    )
    if errors:
        detail += f" ; lots repris après erreur : {' ; '.join(errors)}"
    return report.with_step(
        StepReport(step="billing", ok=True, detail=detail),
        invoices=len(issued),
        invoiced_total=f"{total.amount:.2f}",
        already_billed=len(already),
        without_charges=len(empty),
    )


def _delivery_step(canteen: Canteen, report: CommuneReport, folder: Path) -> CommuneReport:
    """The month's invoices delivered as ``canteen bill --print-batch`` does: e-mailed with
    their PDF to paperless households, the others' print batch written under the commune's
    deployment folder (``courrier/courrier-2023-09.pdf``). Run again, it queues no e-mail
    twice and draws the batch anew."""
    from canteen_adapters.documents.print_batch import deliver_month

    delivery = deliver_month(canteen, _ACTOR, parse_period(report.period)[0])
    detail = (
        f"{_count(len(delivery.emailed), 'facture envoyée', 'factures envoyées')} par e-mail, "
        f"{_count(len(delivery.printed), 'facture à imprimer', 'factures à imprimer')}"
    )
    if delivery.print_batch is not None:
        target = folder / "courrier" / f"courrier-{report.period}.pdf"
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.write_bytes(delivery.print_batch)
        partial.replace(target)
        detail += f" : {target}"
    if delivery.without_address:
        detail += f" ; sans adresse postale : {', '.join(delivery.without_address)}"
    return report.with_step(StepReport(step="delivery", ok=True, detail=detail))


def _message_id(canteen: Canteen, period: str, run_id: str) -> str:
    """The direct-debit file's message id: the same for every try of this run's step."""
    code = _NOT_SEPA.sub("", canteen.deployment.issuer.code)[:12] or "CANTEEN"
    digest = hashlib.sha256(run_id.encode()).hexdigest()[:8].upper()
    return f"{code}-{period.replace('-', '')}-{digest}"


def _collection_date(canteen: Canteen, options: Mapping[str, Any]) -> date:
    """The date asked for, or the earliest the SEPA notice allows (today + notice days, moved
    to the next TARGET2 business day)."""
    given = options.get("collection_date")
    if given:
        return date.fromisoformat(str(given))
    settings = canteen.deployment.payment.get("sepa", {})
    notice = int(settings.get("pre_notification_days", 14))
    earliest = canteen.context.clock.now().astimezone(PARIS).date() + timedelta(days=notice)
    return next_target2_business_day(earliest)  # banks settle on TARGET2 business days only


def _set_aside_orphan(canteen: Canteen, message: str) -> Path | None:
    """Rename this run's unrecorded debit file to ``*.interrompu``; its new path, or ``None``
    when there is no such file (the conflict was something else)."""
    folder = canteen.deployment.payment.get("sepa", {}).get("output_dir")
    if not folder:
        return None
    orphan = Path(folder) / f"pain008-{message}.xml"
    if not orphan.is_file():
        return None
    aside = orphan.with_name(f"{orphan.name}.interrompu")
    orphan.replace(aside)
    return aside


def _debit_step(
    canteen: Canteen, report: CommuneReport, options: Mapping[str, Any], run_id: str
) -> CommuneReport:
    if "sepa" not in canteen.deployment.payment:
        return report.skipped("direct_debit", "aucun prélèvement configuré (pas de [payment.sepa])")
    day = _collection_date(canteen, options)
    message = _message_id(canteen, report.period, run_id)
    set_aside: Path | None = None
    try:
        debit = canteen.payments.run_direct_debit(_ACTOR, day, message_id=message)
    except SepaFileExistsError:
        # Refused at the very end: this run's file exists although the invoices were still
        # open and their debit payments could be stored (a debit committed, or still being
        # committed, by another try would have made those inserts conflict first). So an
        # earlier try wrote the file and died before its transaction committed: the file was
        # never recorded. Set it aside (renamed, never deleted) and collect again, same id.
        set_aside = _set_aside_orphan(canteen, message)
        if set_aside is None:
            raise
        debit = canteen.payments.run_direct_debit(_ACTOR, day, message_id=message)
    detail = (
        f"{_count(debit.count, 'facture prélevée', 'factures prélevées')} "
        f"({debit.control_sum.format_fr()}) le {day:%d/%m/%Y}"
    )
    if set_aside is not None:
        detail += f", fichier d'une tentative interrompue mis de côté ({set_aside.name})"
    if debit.path is not None:
        detail += f", fichier {debit.path}"
    if debit.skipped:
        detail += f", {_count(len(debit.skipped), 'mandat inutilisable', 'mandats inutilisables')}"
    return report.with_step(
        StepReport(step="direct_debit", ok=True, detail=detail),
        debits=debit.count,
        debit_file=None if debit.path is None else str(debit.path),
    )


def _reminders_step(canteen: Canteen, report: CommuneReport) -> CommuneReport:
    sent = canteen.billing.run_reminders(_ACTOR)
    detail = _count(len(sent.sent), "relance envoyée", "relances envoyées")
    return report.with_step(
        StepReport(step="reminders", ok=True, detail=detail), reminders=len(sent.sent)
    )


def _outbox_step(canteen: Canteen, report: CommuneReport) -> CommuneReport:
    dispatched = canteen.accounts.send_outbox(_ACTOR)
    detail = _count(len(dispatched.sent), "e-mail envoyé", "e-mails envoyés")
    if dispatched.already_sent:
        detail += f", {_count(len(dispatched.already_sent), 'déjà envoyé', 'déjà envoyés')}"
    if dispatched.retrying or dispatched.dead:
        detail += (
            f", {_count(len(dispatched.retrying), 'à réessayer', 'à réessayer')}, "
            f"{_count(len(dispatched.dead), 'abandonné', 'abandonnés')}"
        )
    failed = bool(dispatched.dead)
    return report.with_step(
        StepReport(step="outbox", ok=not failed, detail=detail), mails=len(dispatched.sent)
    )


def _count(count: int, singular: str, plural_form: str) -> str:
    """``1 facture émise``, ``2 factures émises`` (French: 0 and 1 are singular)."""
    return f"{count:,}".replace(",", " ") + f" {singular if count <= 1 else plural_form}"


@app.task(bind=True, name="canteen.month_end.finish_commune")
def finish_commune(
    self: Task[Any, Any],
    results: list[dict[str, Any]],
    commune: dict[str, str],
    period: str,
    options: dict[str, Any],
) -> dict[str, Any]:
    """Sweep the billing, then direct debit, reminders and outbox; the commune's report.

    A step that fails is recorded and the direct debit is not run after a failed billing (it
    would collect a partial month); reminders and e-mails are still sent.
    """
    target = Commune.from_message(commune)
    report = CommuneReport(commune=target.code, name=target.name, period=period)
    run_id = str(self.request.id)

    def progress(step: str) -> None:
        meta = {"step": step, "done": [s.step for s in report.steps]}
        self.update_state(state=PROGRESS, meta=meta)

    try:
        canteen = open_commune(target)
    except Exception as error:
        _retry_transient(self, error)
        return report.failed("billing", error).to_dict()
    with canteen:
        progress("billing")
        try:
            report = _billing_step(canteen, report, results)
        except Exception as error:
            _retry_transient(self, error)
            report = report.failed("billing", error)
        billed = report.ok  # a failed delivery does not hold the direct debit back
        if billed:
            progress("delivery")
            try:
                report = _delivery_step(canteen, report, target.deployment.parent)
            except Exception as error:
                _retry_transient(self, error)
                report = report.failed("delivery", error)
        progress("direct_debit")
        if billed:
            try:
                report = _debit_step(canteen, report, options, run_id)
            except Exception as error:
                _retry_transient(self, error)
                report = report.failed("direct_debit", error)
        else:
            report = report.skipped("direct_debit", "non lancé : la facturation a échoué")
        for step, run in (("reminders", _reminders_step), ("outbox", _outbox_step)):
            progress(step)
            try:
                report = run(canteen, report)
            except Exception as error:
                _retry_transient(self, error)
                report = report.failed(step, error)
    return report.to_dict()
