"""The plugin manager: built-ins, entry points, blocking, registry errors, event dispatch."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from canteen_core.config.deployment import StorageSettings
from canteen_core.config.hookspecs import hookimpl
from canteen_core.config.plugins import (
    DEFAULT_PLUGINS,
    AdapterKind,
    CanteenPluginManager,
    MailerBackend,
    StorageBackend,
    build_plugin_manager,
)
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.events import InvoiceIssued, PaymentReceived
from canteen_core.domain.money import Money
from canteen_core.testing import EventRecorder

PLUGIN_PACKAGE = Path(__file__).parent / "plugin_package"
ISSUED = InvoiceIssued(
    occurred_at=datetime(2023, 10, 2, 8, 0, tzinfo=UTC),
    invoice_id="invoice:regie:2023-000001",
    number="2023-000001",
    household_id="h1",
    total=Money.of("24.80"),
    due_date=date(2023, 11, 1),
)


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The test plugin package 'installed' (module + dist-info) in a folder on sys.path."""
    for item in PLUGIN_PACKAGE.iterdir():
        if item.is_dir():
            shutil.copytree(item, tmp_path / item.name)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield
    sys.modules.pop("canteen_demo_plugin", None)


def test_the_manager_is_built_by_a_function_with_the_built_ins() -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    assert isinstance(pm, CanteenPluginManager)
    registered = {name for name, _ in pm.list_name_plugin()}
    assert registered == set(DEFAULT_PLUGINS) - set(pm.unavailable)
    assert {"memory", "sql"} <= set(pm.adapters(AdapterKind.STORAGE))
    assert pm.storage_backend("sql").plugin == "canteen_adapters.storage.sql"
    assert pm is not build_plugin_manager(load_entrypoints=False)  # nothing global


def test_built_in_adapters_are_all_offered() -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    assert set(pm.adapters("mailer")) == {"outbox", "smtp"}
    assert set(pm.adapters("payment_provider")) == {"payzen", "payfip", "sepa", "manual"}
    assert set(pm.adapters("holiday_source")) == {"france"}


def test_a_third_party_plugin_is_picked_up_from_its_entry_point(installed_plugin: Any) -> None:
    pm = build_plugin_manager()
    backend = pm.storage_backend("demo")
    assert (backend.plugin, backend.description) == ("demo", "demo backend")
    storage = pm.open_storage(StorageSettings(url="memory://", adapter="demo"))
    assert storage.name == "memory"
    assert pm.dispatch(ISSUED) == []
    import canteen_demo_plugin

    assert canteen_demo_plugin.SEEN == [ISSUED]


def test_a_plugin_is_blocked_by_name(installed_plugin: Any) -> None:
    pm = build_plugin_manager(blocked=["demo", "canteen_adapters.storage.memory"])
    assert set(pm.adapters("storage")) == {"sql"}
    with pytest.raises(ConfigurationError, match="available: sql"):
        pm.storage_backend("demo")


def test_entry_points_can_be_skipped(installed_plugin: Any) -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    assert "demo" not in pm.adapters("storage")


def test_an_unknown_adapter_lists_the_valid_names() -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    with pytest.raises(ConfigurationError) as info:
        pm.adapter("storage", "oracle")
    assert str(info.value) == "unknown storage backend 'oracle'; available: memory, sql"
    with pytest.raises(ConfigurationError, match="valid kinds: storage, mailer"):
        pm.adapter("printer", "x")


def test_two_plugins_offering_one_name_is_an_error_naming_both() -> None:
    class Rival:
        @hookimpl
        def canteen_storage_backends(self) -> list[StorageBackend]:
            return [StorageBackend(name="sql", factory=lambda settings: None)]  # type: ignore[arg-type,return-value]

    with pytest.raises(ConfigurationError) as info:
        build_plugin_manager(load_entrypoints=False, plugins=[Rival()])
    message = str(info.value)
    assert "'canteen_adapters.storage.sql'" in message
    assert "Rival" in message
    assert "storage backend 'sql'" in message


def test_a_misspelt_hook_fails_at_start_up() -> None:
    class Typo:
        @hookimpl
        def canteen_invoice_isued(self, event: Any) -> None:
            pass

    with pytest.raises(ConfigurationError, match="canteen_invoice_isued"):
        build_plugin_manager(load_entrypoints=False, plugins=[Typo()])


def test_a_hook_with_wrong_arguments_fails_at_registration() -> None:
    class Wrong:
        @hookimpl
        def canteen_invoice_issued(self, invoice: Any) -> None:
            pass

    with pytest.raises(ConfigurationError, match="invalid"):
        build_plugin_manager(load_entrypoints=False, plugins=[Wrong()])


def test_a_provider_returning_the_wrong_record_is_named() -> None:
    class Confused:
        @hookimpl
        def canteen_mailers(self) -> list[Any]:
            return [StorageBackend(name="x", factory=lambda settings: None)]  # type: ignore[arg-type,return-value]

    with pytest.raises(ConfigurationError, match="returned StorageBackend, expected MailerBackend"):
        build_plugin_manager(load_entrypoints=False, plugins=[Confused()])


def test_events_reach_their_hook_then_the_generic_one_and_failures_are_contained(
    canteen_plugin_manager: CanteenPluginManager, canteen_events: EventRecorder
) -> None:
    calls: list[str] = []

    class Broken:
        @hookimpl
        def canteen_invoice_issued(self, event: InvoiceIssued) -> None:
            calls.append("broken")
            raise RuntimeError("the accounting export is down")

    class Observer:
        @hookimpl
        def canteen_invoice_issued(self, event: InvoiceIssued) -> None:
            calls.append("observer")

    canteen_plugin_manager.register(Broken(), name="broken")
    canteen_plugin_manager.register(Observer(), name="observer")
    payment = PaymentReceived(
        occurred_at=ISSUED.occurred_at,
        payment_id="p1",
        household_id="h1",
        amount=Money.of("24.80"),
        method="card",
    )
    errors = canteen_plugin_manager.dispatch_all([ISSUED, payment])
    assert [str(error) for error in errors] == ["the accounting export is down"]
    assert sorted(calls) == ["broken", "observer"]  # one failing plugin does not stop others
    assert canteen_events.events == [ISSUED, payment]
    assert canteen_events.of_type(PaymentReceived) == [payment]


def test_named_records_are_validated() -> None:
    with pytest.raises(InvalidInputError, match="name"):
        MailerBackend(name=" ", factory=lambda settings: None)
    record = MailerBackend(name="x", factory=lambda settings: SimpleNamespace())
    assert record.plugin is None


def test_a_built_in_with_a_missing_optional_dependency_is_skipped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "canteen_fake_extra_plugin.py").write_text(
        "import canteen_absent_optional_dependency\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_plugin_manager(
        load_entrypoints=False,
        default_plugins=(*DEFAULT_PLUGINS, "canteen_fake_extra_plugin"),
    )
    assert pm.unavailable == {
        "canteen_fake_extra_plugin": "missing module 'canteen_absent_optional_dependency'"
    }
    with pytest.raises(ConfigurationError, match="not loaded: canteen_fake_extra_plugin"):
        pm.adapter("payment_provider", "stripe")
    with pytest.raises(ConfigurationError, match="cannot import built-in plugin"):
        build_plugin_manager(load_entrypoints=False, default_plugins=["canteen_adapters.nope"])
