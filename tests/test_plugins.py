"""The plugin manager: built-ins, entry points, blocking, registry errors, event dispatch."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from canteen_core.config.deployment import StorageSettings, parse_deployment
from canteen_core.config.hookspecs import hookimpl
from canteen_core.config.plugins import (
    AdapterKind,
    CanteenPluginManager,
    MailerBackend,
    StorageBackend,
    build_plugin_manager,
    built_in_plugin_names,
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
    assert registered == set(built_in_plugin_names()) - set(pm.unavailable)
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
    with pytest.raises(ConfigurationError, match="disponibles : sql"):
        pm.storage_backend("demo")


def test_entry_points_can_be_skipped(installed_plugin: Any) -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    assert "demo" not in pm.adapters("storage")


def test_an_unknown_adapter_lists_the_valid_names() -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    with pytest.raises(ConfigurationError) as info:
        pm.adapter("storage", "oracle")
    assert (
        str(info.value) == "moteur de stockage « oracle » introuvable ; disponibles : memory, sql"
    )
    with pytest.raises(ConfigurationError, match="possibles : storage, mailer"):
        pm.adapter("printer", "x")


def test_two_plugins_offering_one_name_is_an_error_naming_both() -> None:
    class Rival:
        @hookimpl
        def canteen_storage_backends(self) -> list[StorageBackend]:
            return [StorageBackend(name="sql", factory=lambda settings: None)]  # type: ignore[arg-type,return-value]

    with pytest.raises(ConfigurationError) as info:
        build_plugin_manager(load_entrypoints=False, plugins=[Rival()])
    message = str(info.value)
    assert "canteen_adapters.storage.sql et " in message
    assert "Rival" in message
    assert "moteur de stockage « sql »" in message


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

    with pytest.raises(
        ConfigurationError, match="a renvoyé StorageBackend au lieu de MailerBackend"
    ):
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


def _fake_canteen_distribution(folder: Path, entry_points: str) -> None:
    """A distribution named "canteen" first on sys.path: its entry points are the built-ins."""
    info = folder / "canteen-99.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: canteen\nVersion: 99.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(f"[canteen]\n{entry_points}", encoding="utf-8")


def test_a_built_in_with_a_missing_optional_dependency_is_skipped_and_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "canteen_fake_extra_plugin.py").write_text(
        "import canteen_absent_optional_dependency\n", encoding="utf-8"
    )
    _fake_canteen_distribution(
        tmp_path,
        "canteen_fake_extra_plugin = canteen_fake_extra_plugin\n"
        "canteen_adapters.storage.memory = canteen_adapters.storage.memory\n",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    pm = build_plugin_manager(load_entrypoints=False)
    assert pm.unavailable == {
        "canteen_fake_extra_plugin": "missing module 'canteen_absent_optional_dependency'"
    }
    assert set(pm.adapters("storage")) == {"memory"}
    with pytest.raises(ConfigurationError, match="non chargée : canteen_fake_extra_plugin"):
        pm.adapter("payment_provider", "stripe")


def test_a_built_in_that_names_a_missing_canteen_module_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_canteen_distribution(tmp_path, "canteen_adapters.nope = canteen_adapters.nope\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(
        ConfigurationError, match=r"impossible de charger l'extension canteen_adapters\.nope"
    ):
        build_plugin_manager(load_entrypoints=False)


def test_a_third_party_plugin_with_a_missing_dependency_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "canteen_broken_plugin.py").write_text(
        "import canteen_absent_dependency\n", encoding="utf-8"
    )
    info = tmp_path / "canteen_broken_plugin-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: canteen-broken-plugin\nVersion: 1.0\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(
        "[canteen]\nbroken = canteen_broken_plugin\n", encoding="utf-8"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ConfigurationError, match="impossible de charger l'extension broken"):
        build_plugin_manager()
    assert "broken" not in {
        name for name, _ in build_plugin_manager(load_entrypoints=False).list_name_plugin()
    }


def test_built_ins_can_be_left_out() -> None:
    pm = build_plugin_manager(load_entrypoints=False, built_ins=False)
    assert pm.list_name_plugin() == []
    with pytest.raises(ConfigurationError, match="aucun \\(aucune extension n'en offre\\)"):
        pm.storage_backend("memory")


class _MongoStorage:
    """What a third-party backend opens (a stand-in: it only remembers its URL)."""

    def __init__(self, url: str) -> None:
        self.url = url


class _MongoPlugin:
    """A third-party storage backend for a URL scheme the core has never heard of."""

    @hookimpl
    def canteen_storage_backends(self) -> list[StorageBackend]:
        def open_mongo(settings: StorageSettings) -> Any:
            if not settings.url.startswith("mongodb://"):
                raise ConfigurationError("mongodb:// URLs only", path="storage.url")
            return _MongoStorage(settings.url)

        return [StorageBackend(name="mongodb", factory=open_mongo)]


def test_a_third_party_backend_opens_a_url_scheme_the_core_does_not_know() -> None:
    pm = build_plugin_manager(load_entrypoints=False, plugins=[_MongoPlugin()])
    deployment = parse_deployment(
        "[issuer]\nname = 'Ronde'\ncode = 'RONDE'\n"
        "[storage]\nurl = 'mongodb://db.ronde.fr/canteen'\nadapter = 'mongodb'\n",
        environ={},
    )
    storage = pm.open_storage(deployment.storage)
    assert isinstance(storage, _MongoStorage)
    assert storage.url == "mongodb://db.ronde.fr/canteen"


@pytest.mark.parametrize(
    ("url", "adapter", "message"),
    [
        ("mysql://x@y/z", "sql", "base de données « mysql » non prise en charge"),
        ("mongodb://db/canteen", "sql", "base de données « mongodb » non prise en charge"),
        ("sqlite:///x.db", "memory", "n'ouvre que les url memory://"),
    ],
)
def test_each_built_in_backend_checks_its_own_url(url: str, adapter: str, message: str) -> None:
    pm = build_plugin_manager(load_entrypoints=False)
    with pytest.raises(ConfigurationError, match=message) as info:
        pm.open_storage(StorageSettings(url=url, adapter=adapter))
    assert info.value.path == "storage.url"


def _hook_modules(package: Path, root: str) -> set[str]:
    """Modules under ``package`` defining a ``canteen_*`` function marked ``@hookimpl``, or
    binding a ``canteen_*`` name to an ``offer(...)`` hook."""
    found = set()
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if (
                isinstance(node, ast.FunctionDef)
                and node.name.startswith("canteen_")
                and any(ast.unparse(decorator) == "hookimpl" for decorator in node.decorator_list)
            ) or (
                isinstance(node, ast.Assign)
                and any(
                    isinstance(target, ast.Name) and target.id.startswith("canteen_")
                    for target in node.targets
                )
                and isinstance(node.value, ast.Call)
                and ast.unparse(node.value.func) == "offer"
            ):
                parts = path.relative_to(package.parent).with_suffix("").parts
                found.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert all(name.startswith(root) for name in found)
    return found


def test_the_entry_points_declare_every_built_in_plugin_module() -> None:
    """The registry matches the package: a built-in plugin module nobody declared is never
    loaded, so each module with ``@hookimpl`` hooks has its line in ``pyproject.toml``."""
    import canteen_adapters

    package = Path(canteen_adapters.__file__).parent
    pyproject = tomllib.loads(
        (Path(__file__).parents[1] / "pyproject.toml").read_text(encoding="utf-8")
    )
    declared = pyproject["project"]["entry-points"]["canteen"]
    assert all(name == value for name, value in declared.items())  # the name is the module
    assert set(declared) == _hook_modules(package, "canteen_adapters")
    assert set(built_in_plugin_names()) == set(declared)  # the installed metadata is current


def test_a_third_party_backend_runs_the_shipped_storage_contract(tmp_path: Path) -> None:
    """The documented recipe: star-import the contract, give it a ``storage`` fixture."""
    (tmp_path / "test_my_backend.py").write_text(
        "import pytest\n"
        "from canteen_core.config.plugins import build_plugin_manager\n"
        "from canteen_core.ports.settings import StorageSettings\n"
        "from canteen_core.testing.storage_contract import *  # noqa: F403\n"
        "\n"
        "@pytest.fixture\n"
        "def storage():\n"
        "    manager = build_plugin_manager(load_entrypoints=False)\n"
        "    opened = manager.open_storage(StorageSettings(url='memory://'))\n"
        "    yield opened\n"
        "    opened.close()\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    from canteen_core.testing import storage_contract

    assert f"{len(storage_contract.__all__)} passed" in result.stdout
