"""What a month-end run did for one commune: the report kept in the result backend.

Reports travel as JSON (the result backend's format): :meth:`CommuneReport.to_dict` and
:meth:`CommuneReport.from_dict`. :meth:`CommuneReport.lines_fr` is what ``canteen month-end``
prints, in French.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

from canteen_core.domain.errors import (
    CanteenError,
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
    RuleViolationError,
    StorageError,
)

__all__ = ["CommuneReport", "StepReport", "describe_error_fr"]

#: Step names, in the order a month-end runs them, and their French labels.
STEPS: Mapping[str, str] = {
    "billing": "facturation",
    "delivery": "envoi des factures",
    "direct_debit": "prélèvement",
    "reminders": "relances",
    "outbox": "envoi des e-mails",
}

_KINDS: tuple[tuple[type[BaseException], str], ...] = (
    (ConfigurationError, "configuration invalide"),
    (InvalidInputError, "donnée invalide"),
    (NotFoundError, "introuvable"),
    (NotAuthorizedError, "non autorisé"),
    (RuleViolationError, "règle non respectée"),
    (ConflictError, "conflit"),
    (StorageError, "base de données indisponible"),
    (CanteenError, "erreur"),
    (OSError, "erreur système"),
)


def describe_error_fr(error: BaseException) -> str:
    """One French line saying why a step failed: the kind of error, then its message."""
    kind = next((label for cls, label in _KINDS if isinstance(error, cls)), "erreur inattendue")
    detail = " ".join(str(error).split()) or type(error).__name__
    return f"{kind} : {detail}"


@attrs.frozen(kw_only=True)
class StepReport:
    """One step of a commune's month-end: ``ok`` or not, ``skipped`` or not, and a French
    ``detail`` (what it did, or why it failed or was skipped)."""

    step: str
    ok: bool
    detail: str
    skipped: bool = False

    def line_fr(self) -> str:
        """``facturation : 12 factures émises``."""
        label = STEPS.get(self.step, self.step)
        status = "" if self.ok else "ÉCHEC, "
        return f"{label} : {status}{self.detail}"


@attrs.frozen(kw_only=True)
class CommuneReport:
    """A commune's month-end: its steps, and the counts a platform operator checks.

    ``ok`` is true when no step failed (a skipped step is not a failure). ``invoices`` counts
    the invoices this run issued, ``already_billed`` the households billed by an earlier run,
    ``debits`` the invoices put in the direct-debit file ``debit_file``, ``reminders`` the
    reminders sent, ``mails`` the e-mails handed to the mailer.
    """

    commune: str
    name: str
    period: str
    steps: tuple[StepReport, ...] = ()
    invoices: int = 0
    invoiced_total: str = "0.00"
    already_billed: int = 0
    without_charges: int = 0
    debits: int = 0
    debit_file: str | None = None
    reminders: int = 0
    mails: int = 0

    @property
    def ok(self) -> bool:
        """Whether every step succeeded or was skipped on purpose."""
        return all(step.ok for step in self.steps)

    def failed(self, step: str, error: BaseException | str) -> CommuneReport:
        """This report with ``step`` failed (``error``: an exception or a French reason)."""
        why = error if isinstance(error, str) else describe_error_fr(error)
        return self.with_step(StepReport(step=step, ok=False, detail=why))

    def skipped(self, step: str, reason: str) -> CommuneReport:
        """This report with ``step`` skipped on purpose (``reason``: in French)."""
        return self.with_step(StepReport(step=step, ok=True, skipped=True, detail=reason))

    def with_step(self, step: StepReport, **counts: Any) -> CommuneReport:
        """This report with ``step`` appended and ``counts`` set."""
        return attrs.evolve(self, steps=(*self.steps, step), **counts)

    def lines_fr(self) -> list[str]:
        """The French report: a heading line, then one line per step."""
        status = "terminé" if self.ok else "ÉCHEC"
        head = f"{self.name} ({self.commune}), {self.period} : {status}"
        return [head, *(f"  - {step.line_fr()}" for step in self.steps)]

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data."""
        data = attrs.asdict(self)
        data["ok"] = self.ok
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CommuneReport:
        """The report :meth:`to_dict` wrote."""
        values = {key: value for key, value in data.items() if key != "ok"}
        values["steps"] = tuple(StepReport(**step) for step in data.get("steps", ()))
        return cls(**values)
