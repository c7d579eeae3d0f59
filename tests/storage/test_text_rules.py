"""One rule for text on every backend: what PostgreSQL cannot store is refused everywhere.

A NUL character or a lone surrogate anywhere in a stored object (an audit entry too), and an
id or indexed value longer than ``KEY_LENGTH``, are refused with ``InvalidInputError`` before
anything is written (PostgreSQL used to raise ``StorageError`` where SQLite stored them); the
unit of work stays usable and nothing was stored.
"""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime

import attrs
import pytest

from canteen_adapters.storage._common import KEY_LENGTH
from canteen_core.domain.audit import AuditEntry, AuditKind, FieldChange, chain_entry
from canteen_core.domain.errors import InvalidInputError, StorageError
from canteen_core.domain.families import Household
from canteen_core.ports.storage import Storage

from .samples import household as make_household
from .samples import invoice

LONG = "".join(random.Random(8).choices(string.ascii_letters, k=5000))  # incompressible


def _named(last_name: str) -> Household:
    home = make_household("h1")
    return attrs.evolve(home, payer=attrs.evolve(home.payer, last_name=last_name))


@pytest.mark.parametrize(
    "home",
    [
        _named("Concerto\x00"),
        _named("Concerto\udc80"),
        make_household(LONG),
        make_household("h1", children=1).__class__(  # a child id too long to index
            id="h1",
            payer=make_household("h1").payer,
            children=(attrs.evolve(make_household("h1").children[0], id=LONG),),
            quotients=make_household("h1").quotients,
        ),
    ],
    ids=["nul", "lone-surrogate", "long-id", "long-child-id"],
)
def test_household_text_refused_alike(storage: Storage, home: Household) -> None:
    with storage.unit_of_work() as uow:
        with pytest.raises(InvalidInputError):
            uow.households.add(home)
        with pytest.raises(InvalidInputError):
            uow.households.save(home)
        uow.households.add(make_household("h2"))  # still usable
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert list(uow.households.ids()) == ["h2"]


def test_document_text_refused_alike(storage: Storage) -> None:
    home = make_household("h1")
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        good = invoice(home, 1)
        for bad in (
            attrs.evolve(good, label="SEPTEMBRE\x002023"),
            attrs.evolve(good, payer_name="Concerto \ud800"),
            attrs.evolve(good, id=LONG),
            attrs.evolve(good, billing_key=LONG),
        ):
            with pytest.raises(InvalidInputError):
                uow.invoices.add(bad)
            with pytest.raises(InvalidInputError):
                uow.invoices.add_many([good, bad])
        uow.invoices.add(good)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert [item.id for item in uow.invoices.list()] == [good.id]


def test_valid_unicode_is_stored(storage: Storage) -> None:
    """Emoji (surrogate pairs in JSON), accents and a literal ``\\u0000`` text are text."""
    home = _named("Concerto 😀 éà \\u0000")
    long_enough = make_household("x" * (KEY_LENGTH - 3))  # child "<id>-c0"
    with storage.unit_of_work() as uow:
        uow.households.add(home)
        uow.households.add(long_enough)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert uow.households.get("h1") == home
        assert uow.households.get(long_enough.id) == long_enough


@pytest.mark.parametrize("wanted", ["h\x00", "h\udc80"], ids=["nul", "lone-surrogate"])
def test_lookup_by_unstorable_text_is_not_a_storage_failure(storage: Storage, wanted: str) -> None:
    """No such id can be stored: a lookup finds nothing (or is refused as invalid input),
    never a ``StorageError``."""
    with storage.unit_of_work(read_only=True) as uow:
        try:
            found = uow.households.find(wanted)
        except InvalidInputError:
            found = None
        except StorageError as error:  # pragma: no cover - the failure this test guards
            pytest.fail(f"a lookup raised StorageError: {error}")
        assert found is None


def _audit_entry(number: int, after: object = "Concerto", summary: str = "") -> AuditEntry:
    return AuditEntry(
        commune="RONDE",
        sequence=1,
        id=f"e{number}",
        recorded_at=datetime(2023, 9, 1, 8, tzinfo=UTC),
        actor_id="admin",
        actor_roles=("admin",),
        action="manage_households",
        kind=AuditKind.CHANGE,
        household_ids=("h1",),
        changes=[FieldChange(entity="household:h1", field="payer", after=after, household_id="h1")],
        summary=summary,
    )


@pytest.mark.parametrize(
    "bad",
    [
        _audit_entry(2, after={"last_name": "Concerto\x00"}),
        _audit_entry(2, after={"Concerto\udc80": 1}),
        _audit_entry(2, summary="Entrée \ud800"),
        attrs.evolve(_audit_entry(2), actor_id="admin\x00"),
    ],
    ids=["nul", "lone-surrogate-key", "lone-surrogate", "nul-column"],
)
def test_audit_entry_text_refused_alike(storage: Storage, bad: AuditEntry) -> None:
    # Emoji, accents and a literal "\u0000" text are text (the entry reads back equal).
    good = attrs.evolve(
        _audit_entry(1, after={"last_name": "Concerto 😀 éà \\u0000", "n": [1, None]}),
        household_ids=("h1", "hé-😀"),
    )
    with storage.unit_of_work() as uow:
        first = chain_entry(good, uow.audit.head("RONDE"))
        uow.audit.append(first)
        # The core links any text (a lone surrogate is hashed, not a raw UnicodeEncodeError);
        # the storage refuses what it cannot store alike.
        linked = chain_entry(bad, first)
        with pytest.raises(InvalidInputError):
            uow.audit.append(linked)
        uow.commit()
    with storage.unit_of_work(read_only=True) as uow:
        assert list(uow.audit.entries("RONDE")) == [first]
        assert list(uow.audit.entries("RONDE", household_id="hé-😀")) == [first]
