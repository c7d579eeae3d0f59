"""The facade's construction, the use-case machinery and the households use cases."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from canteen_core.config.deployment import (
    Deployment,
    IssuerSettings,
    PluginSettings,
    StorageSettings,
)
from canteen_core.domain.calendar import Zone
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotAuthorizedError,
    NotFoundError,
)
from canteen_core.domain.families import Child, FamilyQuotient
from canteen_core.services import Canteen

from ._billing_fixtures import billing_canteen, bworld  # noqa: F401  (fixtures)
from ._world import ADMIN, CO_REP, FINANCE, OTHER, PAYER, STAFF, World, concerto


def test_households_round_trip(canteen: Canteen) -> None:
    canteen.families.create_household(ADMIN, concerto())
    assert canteen.families.get(PAYER, "concerto") == concerto()
    assert canteen.families.get(CO_REP, "concerto").co_representative is not None
    assert [h.id for h in canteen.families.list_households(PAYER)] == ["concerto"]
    assert [h.id for h in canteen.families.list_households(STAFF)] == ["concerto"]


def test_another_household_is_never_visible(world: World) -> None:
    canteen = world.canteen
    with pytest.raises(NotAuthorizedError):
        canteen.families.get(OTHER, "concerto")
    with pytest.raises(NotAuthorizedError):
        canteen.families.dashboard(OTHER, "concerto")
    assert [h.id for h in canteen.families.list_households(OTHER)] == ["voisins"]
    assert canteen.families.of_guardian(OTHER, "maman") == []


def test_dashboard_shows_payer_co_representative_children_and_enrollments(world: World) -> None:
    board = world.canteen.families.dashboard(PAYER, "concerto")
    assert board.payer.display_name == "Madame CONCERTO Maman"
    assert board.co_representative is not None
    assert board.co_representative.id == "papa"
    assert [child.id for child in board.children] == ["alban", "zoe"]
    assert [e.id for e in board.enrollments_of("alban")] == ["e-alban"]
    assert board.enrollments[0].label_fr.startswith("Restauration scolaire - École élémentaire")


def test_family_quotient_is_finance_business(world: World) -> None:
    canteen = world.canteen
    quotient = FamilyQuotient(value="612.50", valid_from=world.alban.start)
    with pytest.raises(NotAuthorizedError):
        canteen.families.set_family_quotient(PAYER, "concerto", quotient)
    household = canteen.families.set_family_quotient(FINANCE, "concerto", quotient)
    assert household.quotient_on(world.alban.start) == quotient.value
    assert canteen.families.get(STAFF, "concerto").quotient_on(world.alban.start) == quotient.value


def test_payer_updates_contact_but_co_representative_may_not(world: World) -> None:
    canteen = world.canteen
    household = canteen.families.update_contact(PAYER, "concerto", "maman", email="m@ronde.fr")
    assert household.payer.email == "m@ronde.fr"
    with pytest.raises(NotAuthorizedError):
        canteen.families.update_contact(CO_REP, "concerto", "papa", email="p@ronde.fr")
    with pytest.raises(InvalidInputError):
        canteen.families.update_contact(PAYER, "concerto", "maman", email="pas-une-adresse")
    assert canteen.families.get(PAYER, "concerto").payer.email == "m@ronde.fr"


def test_duplicate_household_is_a_conflict_and_changes_nothing(canteen: Canteen) -> None:
    canteen.families.create_household(ADMIN, concerto())
    with pytest.raises(ConflictError):
        canteen.families.create_household(ADMIN, concerto())
    assert len(canteen.families.list_households(ADMIN)) == 1


def test_open_reads_a_deployment_file_and_migrates(tmp_path: Path) -> None:
    (tmp_path / "canteen.toml").write_text(
        '[storage]\nurl = "sqlite:///data/canteen.db"\n'
        '[issuer]\nname = "Régie"\ncode = "RONDE"\n'
        '[calendar]\nzone = "C"\n',
        encoding="utf-8",
    )
    (tmp_path / "data").mkdir()
    with Canteen.open(tmp_path / "canteen.toml") as canteen:
        canteen.families.create_household(ADMIN, concerto())
    assert (tmp_path / "data" / "canteen.db").exists()
    with Canteen.open(tmp_path / "canteen.toml") as canteen:
        assert canteen.families.get(ADMIN, "concerto").id == "concerto"
        assert "sql" in repr(canteen)


def test_in_memory_by_department_and_a_given_plugin_manager(clock: FixedClock) -> None:
    from canteen_core.services import build_default_plugin_manager

    pm = build_default_plugin_manager(load_entrypoints=False)
    with Canteen.in_memory(department="67", clock=clock, plugin_manager=pm) as canteen:
        assert canteen.context.plugin_manager is pm
        assert canteen.context.default_zone() is Zone.B
        year = canteen.context.school_year(Zone.B, 2023, "67")
        assert date(2024, 3, 29) in year.public_holidays  # Good Friday in Alsace
        assert canteen.deployment.storage.url == "memory://"
    with Canteen.in_memory(zone=None, clock=clock) as canteen, pytest.raises(ConfigurationError):
        canteen.context.default_zone()


def test_blocked_storage_plugin_is_a_configuration_error(tmp_path: Path) -> None:
    deployment = Deployment(
        issuer=IssuerSettings(name="Régie", code="RONDE"),
        storage=StorageSettings(url=f"sqlite:///{tmp_path / 'x.db'}"),
        plugins=PluginSettings(blocked=("canteen_adapters.storage.sql",)),
    )
    with pytest.raises(ConfigurationError, match="moteur de stockage « sql » introuvable"):
        Canteen.from_deployment(deployment)
    with pytest.raises(TypeError):
        Canteen.from_deployment("canteen.toml")  # type: ignore[arg-type]


def test_household_lifecycle_for_the_admin(canteen: Canteen) -> None:
    canteen.families.create_households(ADMIN, [concerto()])
    household = canteen.families.add_child(
        ADMIN,
        "concerto",
        Child(id="bebe", first_name="Bébé", last_name="Concerto", birth_date=date(2022, 5, 1)),
    )
    assert [c.id for c in household.children] == ["alban", "zoe", "bebe"]
    assert canteen.families.set_co_representative(ADMIN, "concerto", None).co_representative is None
    assert canteen.families.of_guardian(STAFF, "papa") == []
    saved = canteen.families.save_household(ADMIN, concerto())
    assert canteen.families.get(ADMIN, "concerto") == saved
    canteen.families.remove_household(ADMIN, "concerto")
    assert canteen.families.list_households(ADMIN) == []
    with pytest.raises(NotFoundError):
        canteen.families.save_household(ADMIN, concerto())


def test_sign_mandate_refuses_an_iban_of_the_wrong_length_and_keeps_nothing(
    bworld: World,  # noqa: F811  (the fixture: direct debit is configured)
) -> None:
    # Issue 14, item 7: a valid ISO 7064 checksum, but 25 characters where France has 27.
    canteen = bworld.canteen
    with pytest.raises(InvalidInputError, match="longueur incorrecte pour ce pays"):
        canteen.payments.sign_mandate(PAYER, "concerto", iban="FR04300060000112345678901")
    with pytest.raises(InvalidInputError, match="BIC"):
        canteen.payments.sign_mandate(
            PAYER, "concerto", iban="FR7630006000011234567890189", bic="AGRIFRP"
        )
    assert canteen.payments.mandates(PAYER, "concerto") == []


def test_record_payment_refuses_an_amount_in_scientific_notation(world: World) -> None:
    # Issue 14, item 5: "1e9" was recorded as 1,000,000,000 EUR.
    canteen = world.canteen
    with pytest.raises(InvalidInputError, match="n'est pas un nombre"):
        canteen.payments.record_payment(ADMIN, "concerto", "1e9", "cash")
    assert canteen.billing.statement(ADMIN, "concerto").balance_due.amount == 0
