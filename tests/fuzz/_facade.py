"""What the fuzz suite knows of the facade: its public methods (found by introspection, so a
new method is fuzzed without a line here), arguments built from their signatures, and a
snapshot of the stored state to prove a refused call changed nothing."""

from __future__ import annotations

import collections.abc as abc
import enum
import inspect
import types
import typing
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

from canteen_adapters.storage.memory import MemoryStorage
from canteen_core.domain.accounts import Secret
from canteen_core.domain.actors import Actor
from canteen_core.domain.calendar import Period
from canteen_core.domain.deadlines import WeeklyDeadline
from canteen_core.domain.families import FamilyQuotient
from canteen_core.domain.money import Money
from canteen_core.domain.periodicity import Periodicity
from canteen_core.services import Canteen
from canteen_core.services.attendance import JustificationRequest
from canteen_core.services.enrollments import EnrollmentRequest
from canteen_core.services.runner import ServiceBase
from services._world import (
    ADMIN,
    CO_REP,
    FINANCE,
    OTHER,
    PAYER,
    SERVICE,
    SITE,
    STAFF,
    SYSTEM,
    WEEKLY,
    concerto,
    voisins,
)

ACTORS = (ADMIN, STAFF, FINANCE, SYSTEM, PAYER, CO_REP, OTHER)
#: Ids of the seed's world, and one that does not exist.
IDS = (
    "concerto",
    "voisins",
    "e-alban",
    "e-zoe",
    "e-lea",
    "ronde",
    "rs",
    "alban",
    "zoe",
    "maman",
    "papa",
    "voisin",
    "missing",
)
#: Texts for parameters whose name says what they hold.
TEXTS: dict[str, tuple[str, ...]] = {
    "period": ("2023-09", "2024-02", "9999-12", "2023-13", "sept"),
    "month": ("2023-09", "2023-10", "0000-01"),
    "provider": ("payfip", "manual", "payzen", "nope"),
    "email": ("maman@concerto.fr", "new@example.fr", "not-an-email"),
    "iban": ("FR7630006000011234567890189", "FR00"),
    "bic": ("AGRIFRPP", "X"),
    "status": ("pending", "sent", "approved", "nope"),
    "method": ("cash", "cheque", "card", "direct_debit", "nope"),
    "presence": ("present", "absent", "nope"),
    "late_change": ("refuse", "pending", "surcharge"),
    "kind": ("recurrent", "one_off"),
}
ROLL = {"e-alban": "present", "e-zoe": "absent"}

#: Values that are wrong for (almost) every parameter, by label.
NASTY: dict[str, object] = {
    "None": None,
    "0": 0,
    "-1": -1,
    "2**31": 2**31,
    "2**63": 2**63,
    "True": True,
    "1.5": 1.5,
    "nan float": float("nan"),
    "empty": "",
    "NUL": "\x00",
    "NUL inside": "con\x00certo",
    "lone surrogate": "\ud800",
    "surrogate inside": "e-al\udc00ban",
    "huge text": "x" * 100_000,
    "bytes": b"concerto",
    "empty list": [],
    "dict": {"k": "v"},
    "list of surrogates": ["\ud800"],
    "list of ints": [1, 2],
    "year 1": date(1, 1, 1),
    "year 9999": date(9999, 12, 31),
    "datetime": datetime(2023, 9, 11, 12, 0, tzinfo=UTC),
    "Decimal NaN": Decimal("NaN"),
    "Decimal 1E+26": Decimal("1E+26"),
    "'1E+26'": "1E+26",
    "'0.001'": "0.001",
    "Decimal 0.001": Decimal("0.001"),
    "'NaN'": "NaN",
    "'9999-12'": "9999-12",
    "'0000-01'": "0000-01",
    "object": object(),
}


def facade_methods(canteen: Canteen) -> dict[str, Callable[..., Any]]:
    """Every public method of every namespace of ``canteen`` (``"reservations.book"`` ->
    bound method), found by introspection."""
    found: dict[str, Callable[..., Any]] = {}
    for namespace, service in sorted(vars(canteen).items()):
        if not isinstance(service, ServiceBase):
            continue
        for name, method in inspect.getmembers(service, inspect.ismethod):
            if not name.startswith("_"):
                found[f"{namespace}.{name}"] = method
    return found


@attrs.frozen
class Param:
    """One parameter of a facade method."""

    name: str
    kind: object
    keyword: bool
    required: bool


def params(method: Callable[..., Any]) -> tuple[Param, ...]:
    """The parameters of ``method`` with their resolved annotations."""
    hints = typing.get_type_hints(method)
    result = []
    for parameter in inspect.signature(method).parameters.values():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        result.append(
            Param(
                name=parameter.name,
                kind=hints.get(parameter.name, Any),
                keyword=parameter.kind is parameter.KEYWORD_ONLY,
                required=parameter.default is parameter.empty,
            )
        )
    return tuple(result)


def _household(index: int) -> Any:
    base = concerto() if index % 2 == 0 else voisins()
    return attrs.evolve(base, id=f"{base.id}-{index}", children=(), co_representative=None)


#: Well-formed values of the library's classes (the fuzz reaches the use cases with them).
SAMPLES: dict[type, tuple[object, ...]] = {
    Actor: ACTORS,
    Periodicity: (
        Periodicity(weekdays="lundi,jeudi", start=date(2023, 9, 4), end=date(2023, 12, 22)),
        Periodicity(weekdays="mardi", start=date(1900, 1, 1), end=date(2200, 12, 31)),
    ),
    Period: (Period(name="Grève", first_day=date(2023, 10, 12), last_day=date(2023, 10, 13)),),
    Money: (Money.of("10.00"), Money.of("0.01")),
    Secret: (Secret("Mot de passe 2023 !"), Secret("\x00")),
    FamilyQuotient: (FamilyQuotient(value=Decimal("650"), valid_from=date(2023, 9, 1)),),
    JustificationRequest: (
        JustificationRequest(
            enrollment_id="e-alban", first_day=date(2023, 9, 11), last_day=date(2023, 9, 12)
        ),
    ),
    EnrollmentRequest: (
        EnrollmentRequest(
            household_id="voisins",
            child_id="lea",
            service=SERVICE,
            site=SITE,
            booking_policy=WEEKLY,
            school_year=2024,
        ),
    ),
    WeeklyDeadline: (WeeklyDeadline(weekday=3, at=time(10, 0)),),
    type(SERVICE): (SERVICE,),
    type(SITE): (SITE,),
    type(concerto()): (_household(0), _household(1), concerto()),
    type(concerto().payer): (concerto().payer,),
    type(concerto().children[0]): (concerto().children[0],),
}


def _samples_for(kind: type) -> tuple[object, ...]:
    if getattr(kind, "_is_protocol", False):
        return ()  # a port (the unit of work a service hands another): nothing to offer
    for known, values in SAMPLES.items():
        if issubclass(known, kind):
            return values
    if issubclass(kind, enum.Enum):
        return tuple(kind)
    return ()


def plausible(kind: object, name: str) -> st.SearchStrategy[Any]:
    """Values of the annotated type that reach the use case (mostly well formed)."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        return st.one_of([plausible(member, name) for member in args])
    if kind is type(None):
        return st.none()
    if kind is str:
        if name == "id" or name.endswith(("_id", "_ids")):
            return st.sampled_from(IDS)
        return st.sampled_from(TEXTS.get(name, ("texte", "Motif de test", "maman"))) | st.text(
            max_size=12
        )
    if kind is bool:
        return st.booleans()
    if kind is int:
        if name == "year" or name.endswith("year"):
            return st.sampled_from((2023, 2024))
        if name == "month":
            return st.integers(1, 12)
        return st.integers(0, 3)
    if kind is datetime:
        return st.just(datetime(2023, 9, 11, 8, 0, tzinfo=UTC))
    if kind is date:
        return st.dates(date(2023, 8, 20), date(2024, 7, 10))
    if kind is Decimal:
        return st.sampled_from((Decimal("12.50"), Decimal("0.01")))
    if origin in (abc.Mapping, dict, abc.MutableMapping):
        key, value = args if len(args) == 2 else (Any, Any)
        if name == "presences":
            return st.just(ROLL)
        return st.dictionaries(plausible(key, name), plausible(value, name), max_size=3)
    if origin in (abc.Iterable, abc.Sequence, abc.Collection, list, tuple, set, frozenset):
        element = args[0] if args else Any
        return st.lists(plausible(element, name), max_size=3)
    if isinstance(kind, type):
        samples = _samples_for(kind)
        if samples:
            return st.sampled_from(samples)
    return st.none()


def nasty() -> st.SearchStrategy[tuple[str, object]]:
    """A labelled wrong value."""
    return st.sampled_from(sorted(NASTY.items(), key=lambda item: item[0]))


def arguments(method: Callable[..., Any]) -> st.SearchStrategy[tuple[list[Any], dict[str, Any]]]:
    """Positional and keyword arguments for ``method``: each parameter plausible or nasty;
    optional ones sometimes left out."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[list[Any], dict[str, Any]]:
        positional: list[Any] = []
        keywords: dict[str, Any] = {}
        for param in params(method):
            if not param.required and draw(st.booleans()):
                continue
            if draw(st.integers(0, 3)) == 0:
                value = draw(nasty())[1]
            else:
                value = draw(plausible(param.kind, param.name))
            if param.keyword or not param.required:
                keywords[param.name] = value
            else:
                positional.append(value)
        return positional, keywords

    return build()


def _fixed(kind: object, name: str) -> Any:
    """One fixed well-formed value (the sweep varies one parameter at a time)."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if origin in (typing.Union, types.UnionType):
        members = [member for member in args if member is not type(None)]
        return _fixed(members[0], name) if members else None
    if kind is str:
        if name.endswith("_id"):
            return {
                "enrollment_id": "e-alban",
                "site_id": "ronde",
                "service_id": "rs",
                "child_id": "alban",
                "guardian_id": "maman",
                "account_id": "maman",
            }.get(name, "concerto")
        return TEXTS.get(name, ("texte",))[0]
    if kind is bool:
        return False
    if kind is int:
        return {"year": 2023, "month": 10}.get(name, 1)
    if kind is datetime:
        return datetime(2023, 9, 11, 8, 0, tzinfo=UTC)
    if kind is date:
        return date(2023, 10, 2)
    if kind is Decimal:
        return Decimal("12.50")
    if origin in (abc.Mapping, dict, abc.MutableMapping):
        return ROLL if name == "presences" else {}
    if origin in (abc.Iterable, abc.Sequence, abc.Collection, list, tuple, set, frozenset):
        return ["concerto"] if name.endswith("_ids") else []
    if isinstance(kind, type):
        samples = _samples_for(kind)
        return samples[0] if samples else None
    return None


def sweep(method: Callable[..., Any]) -> Iterator[tuple[str, str, list[Any], dict[str, Any]]]:
    """(parameter, label, args, kwargs): every nasty value in every parameter in turn, the
    other parameters fixed and well formed."""
    signature = params(method)
    for target in signature:
        for label, value in sorted(NASTY.items()):
            positional: list[Any] = []
            keywords: dict[str, Any] = {}
            for param in signature:
                chosen = value if param is target else _fixed(param.kind, param.name)
                if param.name == "actor" and param is not target:
                    chosen = ADMIN
                if param.keyword or not param.required:
                    keywords[param.name] = chosen
                else:
                    positional.append(chosen)
            yield target.name, label, positional, keywords


class Watch:
    """Counts the units of work a canteen's storage opens: a call that opened none cannot have
    changed the stored state, so its snapshot is skipped (most wrong values are refused where
    they enter the facade, before any unit of work)."""

    def __init__(self, canteen: Canteen) -> None:
        self.opened = 0
        storage = canteen.context.storage
        original = storage.unit_of_work

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.opened += 1
            return original(*args, **kwargs)

        storage.unit_of_work = counting  # type: ignore[method-assign]


def _plain(value: object) -> object:
    """A copy of dicts, lists and sets (what a memory storage mutates); immutable values kept."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, set)):
        return type(value)(_plain(item) for item in value)
    return value


def snapshot(canteen: Canteen) -> object:
    """The whole stored state: the memory storage's data, or every row of every table."""
    storage = canteen.context.storage
    if isinstance(storage, MemoryStorage):
        return _plain(dict(vars(storage._data)))
    from canteen_adapters.storage.sql import SqlStorage
    from canteen_adapters.storage.sql.tables import metadata

    assert isinstance(storage, SqlStorage)
    if storage.engine.dialect.name == "postgresql":
        # One round trip: a digest of each table's rows (the schema is the search path).
        query = " UNION ALL ".join(
            f"SELECT '{table.name}', count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) "
            f'FROM "{table.name}" t'
            for table in metadata.sorted_tables
        )
        with storage.engine.connect() as connection:
            return sorted(tuple(row) for row in connection.exec_driver_sql(query))
    with storage.engine.connect() as connection:
        return {
            table.name: sorted((tuple(row) for row in connection.execute(table.select())), key=repr)
            for table in metadata.sorted_tables
        }


def short(value: object) -> str:
    """A one-line, bounded description of an argument for failure reports."""
    text = ascii(value)
    return text if len(text) <= 80 else text[:77] + "..."


__all__ = [
    "ACTORS",
    "NASTY",
    "Param",
    "Watch",
    "arguments",
    "facade_methods",
    "params",
    "plausible",
    "short",
    "snapshot",
    "sweep",
]
