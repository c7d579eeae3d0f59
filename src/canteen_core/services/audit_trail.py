"""How the use-case runner writes the audit trail: one entry per state-changing use case.

Every use case run by :meth:`~canteen_core.services.runner.ServiceContext.use_case` carries an
:class:`AuditNote` (``tx.audit``). The use case fills it where it knows more than the runner:
the before/after of the fields it changed (:meth:`AuditNote.change`), the entities it touched
(:meth:`AuditNote.touch`), a French summary. Staff reads of sensitive data (health, bank
details) are declared with :meth:`AuditNote.read`.

As the use case ends, the runner calls :func:`write_entry`: an entry is written, in the use
case's own transaction, for every writable use case whose action changes data (any action but
the ``view_*`` ones) and for every declared read; the actor, roles, instant, action and the
households the use case was authorized for come from the transaction itself. A read-only use
case that declared a read gets its entry in a transaction of its own right after
(:func:`write_read_entry`).

The account's own steps (activation, login, password change and reset) run without an
authorized actor: the account use case names who acted with :meth:`AuditNote.acting_as`
and the runner writes their entry the same way (a failed login's too, committed with its
throttle counters). Their before/after never holds a password, a hash or a token.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from canteen_core.config.serialization import unstructure
from canteen_core.domain._unchecked import unchecked
from canteen_core.domain.actors import Actor
from canteen_core.domain.audit import (
    AccountAction,
    AuditEntry,
    AuditKind,
    FieldChange,
    action_label,
    chain_entry,
)
from canteen_core.domain.policy import Action
from canteen_core.ports.storage import Storage, UnitOfWork

__all__ = ["AuditNote", "jsonable", "write_entry", "write_read_entry"]


#: Types :func:`jsonable` gives back as they are (and unstructuring gives back unchanged).
_ATOMS = frozenset({str, int, bool, type(None)})


def jsonable(value: object) -> Any:
    """``value`` as a JSON value for an audit entry (amounts and dates as texts, attrs
    values as objects, tuples as lists)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if type(value) is dict and all(type(key) is str for key in value):
        # A plain mapping keyed by texts (a billing run's one change per invoice): the same
        # as unstructuring it whole, then each value again below, with one pass less.
        return {
            key: item if type(item) in _ATOMS else jsonable(unstructure(item))
            for key, item in value.items()
        }
    plain = unstructure(value)
    if isinstance(plain, list | tuple):
        return [jsonable(item) for item in plain]
    if isinstance(plain, dict):
        return {str(key): jsonable(item) for key, item in plain.items()}
    if isinstance(plain, bool | int | str) or plain is None:
        return plain
    return str(plain)


_unchecked_change = unchecked(FieldChange)


class AuditNote:
    """What a running use case tells the audit trail beyond what the runner knows."""

    def __init__(self) -> None:
        self.households: set[str] = set()
        self.entities: set[str] = set()
        self.changes: list[FieldChange] = []
        self.reads: list[str] = []
        self.summary = ""
        #: Who acted in a use case without an authorized actor (see :meth:`acting_as`).
        self.acting: tuple[str, tuple[str, ...], AccountAction] | None = None

    def acting_as(
        self,
        actor_id: str,
        action: AccountAction,
        *,
        roles: Iterable[str] = (),
        household_ids: Iterable[str] = (),
    ) -> None:
        """Name who acted in an account's own step (the account; ``"anonyme"`` when the
        requester proved nothing, as for a failed login) and its households: the step then
        leaves an entry like any use case."""
        self.acting = (actor_id, tuple(roles), AccountAction(action))
        self.households.update(household_ids)

    def touch(self, *entities: str, household_id: str | None = None) -> None:
        """Name entities the use case changed (``"invoice:F1"``) and its household."""
        self.entities.update(entity for entity in entities if entity)
        if household_id:
            self.households.add(household_id)

    def change(
        self,
        entity: str,
        field: str,
        before: object,
        after: object,
        *,
        household_id: str | None = None,
    ) -> None:
        """Record one field's value before and after (``None``: it did not exist), when
        they differ."""
        old, new = jsonable(before), jsonable(after)
        if old != new:
            if type(entity) is str and entity and type(field) is str and field:
                # jsonable gives JSON values (lists, text keys): what FieldChange checks and
                # converts holds already (a billing run records one change per invoice).
                change = _unchecked_change(
                    entity=entity, field=field, before=old, after=new, household_id=household_id
                )
            else:
                change = FieldChange(
                    entity=entity, field=field, before=old, after=new, household_id=household_id
                )
            self.changes.append(change)
        self.touch(entity, household_id=household_id)

    def changes_of(
        self,
        entity: str,
        before: object,
        after: object,
        fields: Iterable[str],
        *,
        household_id: str | None = None,
    ) -> None:
        """:meth:`change` for each of ``fields`` of two versions of an object (either may be
        ``None``: created, removed)."""
        for field in fields:
            self.change(
                entity,
                field,
                None if before is None else getattr(before, field, None),
                None if after is None else getattr(after, field, None),
                household_id=household_id,
            )

    def read(self, household_id: str | None, what: str) -> None:
        """Declare a read of ``household_id``'s sensitive data (``what``: a French label,
        "données de santé", "coordonnées bancaires"; ``None``: every household's, one entry
        for a listing); logged for staff actors only."""
        if household_id is not None:
            self.households.add(household_id)
        self.reads.append(what)

    def describe(self, summary: str) -> None:
        """A French one-line summary of what the use case did."""
        self.summary = summary


class Transaction(Protocol):
    """What the audit trail reads of a running use case (the runner's ``Transaction``)."""

    @property
    def actor(self) -> Actor | None:
        """The acting user."""
        ...

    @property
    def action(self) -> Action | None:
        """The use case's action."""
        ...

    @property
    def now(self) -> datetime:
        """The use case's instant."""
        ...

    @property
    def uow(self) -> UnitOfWork:
        """Its unit of work."""
        ...

    @property
    def audit(self) -> AuditNote:
        """What the use case told the audit trail."""
        ...

    @property
    def authorized_households(self) -> frozenset[str]:
        """The households it was authorized for."""
        ...


def _who(tx: Transaction) -> tuple[str, tuple[str, ...], str] | None:
    """(actor id, roles, action) of the use case: its authorized actor, or whom an account
    step named (``None``: nobody to record)."""
    if tx.actor is not None and tx.action is not None:
        return tx.actor.user_id, tuple(role.value for role in tx.actor.roles), tx.action.value
    return tx.audit.acting


def _entry(tx: Transaction, commune: str, kind: AuditKind, summary: str) -> AuditEntry:
    who = _who(tx)
    assert who is not None
    actor_id, roles, action = who
    note = tx.audit
    return AuditEntry(
        commune=commune,
        sequence=1,
        id=uuid.uuid4().hex,
        recorded_at=tx.now,
        actor_id=actor_id,
        actor_roles=roles,
        action=action,
        kind=kind,
        household_ids=tuple(note.households | tx.authorized_households),
        entity_ids=tuple(note.entities),
        changes=note.changes if kind is AuditKind.CHANGE else (),
        summary=summary,
    )


def append(uow: UnitOfWork, entry: AuditEntry) -> AuditEntry:
    """Link ``entry`` after its commune's chain head and store it (in ``uow``)."""
    linked = chain_entry(entry, uow.audit.head(entry.commune))
    uow.audit.append(linked)
    return linked


def _reads_logged(tx: Transaction) -> bool:
    return bool(tx.audit.reads) and tx.actor is not None and not tx.actor.is_family


def _read_summary(tx: Transaction) -> str:
    return "Consultation : " + ", ".join(dict.fromkeys(tx.audit.reads))


def write_entry(tx: Transaction, commune: str) -> None:
    """The runner's step before a writable use case commits (see the module docstring):
    ``commune`` names the chain."""
    who = _who(tx)
    if who is None:
        return
    note = tx.audit
    if not who[2].startswith("view_"):
        # A use case that only declared reads (an export) is a read.
        kind = AuditKind.READ if note.reads and not note.changes else AuditKind.CHANGE
        summary = note.summary or (_read_summary(tx) if note.reads else action_label(who[2]))
        append(tx.uow, _entry(tx, commune, kind, summary))
    elif _reads_logged(tx):
        append(tx.uow, _entry(tx, commune, AuditKind.READ, _read_summary(tx)))


def write_read_entry(storage: Storage, tx: Transaction, commune: str) -> None:
    """After a read-only use case: log its declared sensitive reads in a transaction of
    their own."""
    if tx.actor is None or tx.action is None or not _reads_logged(tx):
        return
    entry = _entry(tx, commune, AuditKind.READ, _read_summary(tx))
    with storage.unit_of_work() as uow:
        append(uow, entry)
        uow.commit()
