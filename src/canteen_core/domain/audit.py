"""The audit trail: who changed what, when, and what it was before, in a hash chain.

Every state-changing use case leaves one :class:`AuditEntry` (written by the use-case runner in
the use case's own transaction), and staff reads of a household's health data or bank details
leave one too. Entries form one chain per commune: each holds the SHA-256 of the previous
entry, and its own hash covers its canonical JSON (:meth:`AuditEntry.canonical`) and that
previous hash. Changing, removing or inserting a stored entry breaks the chain at that entry,
which :func:`verify_chain` names.

The chain starts at :data:`GENESIS`. The retention policy may cut its oldest part (a prefix,
never a single entry): the first kept entry then anchors the chain (its ``previous_hash`` is
trusted, and the entry recording the cut names it).
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from canteen_core.domain._validators import aware_datetime, non_empty_str, positive_int
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.policy import ACTION_LABELS, Action

__all__ = [
    "ANONYMOUS",
    "GENESIS",
    "AccountAction",
    "AuditEntry",
    "AuditHead",
    "AuditKind",
    "ChainReport",
    "FieldChange",
    "JsonValue",
    "action_label",
    "chain_entry",
    "entry_hash",
    "verify_chain",
]

#: The ``previous_hash`` of a commune's first entry.
GENESIS = "0" * 64

#: The actor of an entry whose requester proved nothing (a failed login, a reset request).
ANONYMOUS = "anonyme"

#: What ``before`` and ``after`` hold: JSON values (texts for amounts and dates).
JsonValue = None | bool | int | str | list[Any] | dict[str, Any]


class AuditKind(enum.StrEnum):
    """Why an entry exists."""

    CHANGE = "change"  # a use case changed stored data
    READ = "read"  # staff read sensitive data (health, bank details)
    RETENTION = "retention"  # the retention policy removed data (old entries included)


class AccountAction(enum.StrEnum):
    """What the audit trail calls a portal account's own steps: they run before anyone is
    authenticated (or, for a password change, for the account itself) and so are no
    :class:`~canteen_core.domain.policy.Action` of the policy."""

    ACTIVATE_ACCOUNT = "activate_account"
    LOG_IN = "log_in"
    LOG_OUT = "log_out"
    FAILED_LOGIN = "failed_login"
    CHANGE_PASSWORD = "change_password"
    REQUEST_PASSWORD_RESET = "request_password_reset"
    RESET_PASSWORD = "reset_password"


#: The French names of the account's own steps (the policy names its actions).
_ACCOUNT_LABELS: dict[str, str] = {
    AccountAction.ACTIVATE_ACCOUNT: "Activation du compte",
    AccountAction.LOG_IN: "Connexion au portail",
    AccountAction.LOG_OUT: "Déconnexion du portail",
    AccountAction.FAILED_LOGIN: "Échec de connexion",
    AccountAction.CHANGE_PASSWORD: "Changement de mot de passe",
    AccountAction.REQUEST_PASSWORD_RESET: "Demande de réinitialisation du mot de passe",
    AccountAction.RESET_PASSWORD: "Réinitialisation du mot de passe",
}


def action_label(action: str) -> str:
    """The French name of an entry's action (the action itself if unknown): its summary
    when the use case gave none."""
    if action in _ACCOUNT_LABELS:
        return _ACCOUNT_LABELS[action]
    try:
        return ACTION_LABELS[Action(action)]
    except ValueError:
        return action


def _json_value(value: object, path: str = "value") -> None:
    """Refuse what JSON cannot hold exactly (floats, objects): ``InvalidInputError``."""
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _json_value(item, f"{path}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidInputError("audit values are keyed by texts", path=path)
            _json_value(item, f"{path}.{key}")
        return
    raise InvalidInputError(
        f"an audit value is a JSON text, number, list or mapping, not {type(value).__name__}",
        path=path,
    )


def _check_json(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    _json_value(value, attribute.name)


def _thaw(value: Any) -> Any:
    """Lists for tuples (the JSON shape), recursively."""
    if isinstance(value, list | tuple):
        return [_thaw(item) for item in value]
    if isinstance(value, dict):
        return {key: _thaw(item) for key, item in value.items()}
    return value


@attrs.frozen(kw_only=True)
class FieldChange:
    """One changed field of one entity: its value before and after (``None``: absent), and
    the household the entity belongs to when known (``household_id``: a bulk entry covering
    many households says which change is whose)."""

    entity: str = attrs.field(validator=non_empty_str)  # "household:h1", "tariff:grid-2024"
    field: str = attrs.field(validator=non_empty_str)
    before: JsonValue = attrs.field(default=None, validator=_check_json, converter=_thaw)
    after: JsonValue = attrs.field(default=None, validator=_check_json, converter=_thaw)
    household_id: str | None = None

    def as_json(self) -> dict[str, Any]:
        """The change as a JSON object (``household_id`` only when known, so entries
        written before it existed keep their hash)."""
        document: dict[str, Any] = {
            "entity": self.entity,
            "field": self.field,
            "before": self.before,
            "after": self.after,
        }
        if self.household_id is not None:
            document["household_id"] = self.household_id
        return document


def _utc(value: datetime) -> datetime:
    """Aware instants in UTC (a naive one is left for the validator to refuse)."""
    if isinstance(value, datetime) and value.utcoffset() is not None:
        return value.astimezone(UTC)
    return value


def _changes(values: Iterable[FieldChange]) -> tuple[FieldChange, ...]:
    return tuple(values)


def _sorted_texts(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(sorted(set(values)))


@attrs.frozen(kw_only=True)
class AuditEntry:
    """One link of a commune's audit chain (immutable once stored).

    ``sequence`` counts from 1 per commune; ``household_ids`` are the households the use case
    touched (one for most, many for a billing run); ``entity_ids`` name what it changed
    (``"invoice:F2024-0001"``); ``summary`` is one French line for people.
    """

    commune: str = attrs.field(validator=non_empty_str)
    sequence: int = attrs.field(validator=positive_int)
    id: str = attrs.field(validator=non_empty_str)
    recorded_at: datetime = attrs.field(validator=aware_datetime, converter=_utc)
    actor_id: str = attrs.field(validator=non_empty_str)
    actor_roles: tuple[str, ...] = attrs.field(converter=_sorted_texts)
    action: str = attrs.field(validator=non_empty_str)
    kind: AuditKind = attrs.field(converter=AuditKind)
    household_ids: tuple[str, ...] = attrs.field(default=(), converter=_sorted_texts)
    entity_ids: tuple[str, ...] = attrs.field(default=(), converter=_sorted_texts)
    changes: tuple[FieldChange, ...] = attrs.field(default=(), converter=_changes)
    summary: str = ""
    previous_hash: str = GENESIS
    hash: str = ""

    def details(self) -> dict[str, Any]:
        """The fields without a column of their own in SQL storage (a JSON object)."""
        return {
            "actor_roles": list(self.actor_roles),
            "household_ids": list(self.household_ids),
            "entity_ids": list(self.entity_ids),
            "changes": [change.as_json() for change in self.changes],
            "summary": self.summary,
        }

    def changes_for(self, household_id: str) -> tuple[tuple[FieldChange, ...], int]:
        """The changes concerning ``household_id``, and how many concern others.

        An entry about one household concerns it whole. In a bulk entry (a billing run, an
        import) a change concerns the household it names, or its ``household:ID`` entity;
        a change naming no household (the grid of a run) counts as another's, so nothing of
        another household is shown as this one's.
        """
        if household_id not in self.household_ids:
            return (), len(self.changes)
        if len(self.household_ids) == 1:
            return self.changes, 0
        entity = f"household:{household_id}"
        mine = tuple(
            change
            for change in self.changes
            if change.household_id == household_id
            or (change.household_id is None and change.entity == entity)
        )
        return mine, len(self.changes) - len(mine)

    def canonical(self) -> str:
        """The entry's canonical JSON (sorted keys, no spaces, UTF-8), without its hash."""
        return self._canonical(self.sequence, self.previous_hash)

    def _canonical(self, sequence: int, previous_hash: str) -> str:
        """:meth:`canonical` of the entry numbered ``sequence`` after ``previous_hash``."""
        document = {
            "commune": self.commune,
            "sequence": sequence,
            "id": self.id,
            "recorded_at": self.recorded_at.isoformat(),
            "actor_id": self.actor_id,
            "action": self.action,
            "kind": self.kind.value,
            "previous_hash": previous_hash,
            **self.details(),
        }
        return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_columns(cls, columns: Mapping[str, Any], details: Mapping[str, Any]) -> AuditEntry:
        """Rebuild an entry from stored columns and its :meth:`details` (storage adapters)."""
        changes = tuple(
            FieldChange(
                entity=item["entity"],
                field=item["field"],
                before=item.get("before"),
                after=item.get("after"),
                household_id=item.get("household_id"),
            )
            for item in details.get("changes", ())
        )
        recorded_at = columns["recorded_at"]
        if isinstance(recorded_at, str):
            recorded_at = datetime.fromisoformat(recorded_at)
        elif recorded_at.tzinfo is None:  # SQLite gives back naive UTC
            recorded_at = recorded_at.replace(tzinfo=UTC)
        return cls(
            commune=columns["commune"],
            sequence=int(columns["sequence"]),
            id=columns["id"],
            recorded_at=recorded_at,
            actor_id=columns["actor_id"],
            actor_roles=tuple(details.get("actor_roles", ())),
            action=columns["action"],
            kind=columns["kind"],
            household_ids=tuple(details.get("household_ids", ())),
            entity_ids=tuple(details.get("entity_ids", ())),
            changes=changes,
            summary=details.get("summary", ""),
            previous_hash=columns["previous_hash"],
            hash=columns["hash"],
        )


@attrs.frozen(kw_only=True)
class AuditHead:
    """Where a commune's chain ends: its last entry's sequence and hash, all that linking the
    next entry needs (:func:`chain_entry`), without that entry's changes (a billing run's
    entry holds hundreds).

    ``hash`` is the stored one, checked by nobody here: an edited chain still grows, and
    :func:`verify_chain` names the edited entry.
    """

    commune: str = attrs.field(validator=non_empty_str)
    sequence: int = attrs.field(validator=positive_int)
    hash: str

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditHead:
        """The head of a chain ending with ``entry``."""
        return cls(commune=entry.commune, sequence=entry.sequence, hash=entry.hash)


def entry_hash(entry: AuditEntry) -> str:
    """SHA-256 (hex) of the previous hash, a newline and the entry's canonical JSON."""
    return _hash(entry, entry.sequence, entry.previous_hash)


def _hash(entry: AuditEntry, sequence: int, previous_hash: str) -> str:
    """:func:`entry_hash` of ``entry`` numbered ``sequence`` after ``previous_hash``."""
    # surrogatepass: a lone surrogate (from hostile input) is hashed rather than raising a raw
    # UnicodeEncodeError; the storage then refuses that text with its own InvalidInputError.
    text = f"{previous_hash}\n{entry._canonical(sequence, previous_hash)}"
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def chain_entry(entry: AuditEntry, previous: AuditHead | AuditEntry | None) -> AuditEntry:
    """``entry`` linked after ``previous`` (the commune's chain head, or its last entry;
    ``None`` for the first): its sequence, previous hash and own hash set."""
    if previous is not None and previous.commune != entry.commune:
        raise InvalidInputError("an audit chain holds one commune's entries", path="commune")
    sequence = 1 if previous is None else previous.sequence + 1
    previous_hash = GENESIS if previous is None else previous.hash
    # One copy, hashed before it is made (a copy runs the converters over every household).
    digest = _hash(entry, sequence, previous_hash)
    return attrs.evolve(entry, sequence=sequence, previous_hash=previous_hash, hash=digest)


@attrs.frozen(kw_only=True)
class ChainReport:
    """What :func:`verify_chain` found: entries checked, and the first broken one."""

    commune: str
    checked: int
    broken_sequence: int | None = None
    broken_id: str | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        """Whether every entry checked out."""
        return self.broken_sequence is None

    def message(self) -> str:
        """One French line for the command's output."""
        if self.intact:
            return (
                f"Journal d'audit de {self.commune} intact : {self.checked} entrée(s) vérifiée(s)."
            )
        return (
            f"Journal d'audit de {self.commune} altéré à l'entrée n° {self.broken_sequence} "
            f"({self.broken_id}) : {self.reason}."
        )


def verify_chain(commune: str, entries: Iterable[AuditEntry]) -> ChainReport:
    """Check a commune's entries, given in sequence order: consecutive sequences, each
    linked to the previous hash, each hash matching its content. The first entry is linked to
    :data:`GENESIS` when it is number 1 (else it anchors a chain cut by retention)."""
    previous: AuditEntry | None = None
    checked = 0
    for entry in entries:
        reason = ""
        if entry.commune != commune:
            reason = "l'entrée appartient à une autre commune"
        elif previous is None and entry.sequence == 1 and entry.previous_hash != GENESIS:
            reason = "la première entrée ne part pas de l'origine de la chaîne"
        elif previous is not None and entry.sequence != previous.sequence + 1:
            reason = f"entrée(s) manquante(s) après le n° {previous.sequence}"
        elif previous is not None and entry.previous_hash != previous.hash:
            reason = "le lien vers l'entrée précédente ne correspond pas"
        elif entry_hash(entry) != entry.hash:
            reason = "son contenu ne correspond plus à son empreinte"
        if reason:
            return ChainReport(
                commune=commune,
                checked=checked,
                broken_sequence=entry.sequence,
                broken_id=entry.id,
                reason=reason,
            )
        checked += 1
        previous = entry
    return ChainReport(commune=commune, checked=checked)
