"""Tenants without PostgreSQL: the registry's values, ``[storage] tenant``, ``canteen tenants``
on a SQLite deployment, and a month-end job refusing a deployment of another commune.

The two-communes-in-one-database tests are ``tests/storage/test_tenancy.py`` (PostgreSQL).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.cli import main
from canteen_adapters.cli.demo.commune import demo_deployment_text
from canteen_adapters.jobs.registry import Commune
from canteen_adapters.jobs.tasks import open_commune
from canteen_adapters.storage.sql import SqlStorage
from canteen_core.config.deployment import parse_deployment
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.tenants import TENANT_ID_PATTERN, Tenant, check_tenant_id


@given(st.text(max_size=70))
def test_a_tenant_id_is_a_short_plain_name(text: str) -> None:
    if re.fullmatch(TENANT_ID_PATTERN, text):
        assert check_tenant_id(text) == text
    else:
        with pytest.raises(InvalidInputError, match="identifiant de commune invalide"):
            check_tenant_id(text)


def test_secrets_are_named_by_their_environment_variable_never_given() -> None:
    tenant = Tenant(id="RONDE", name="Ronde", secrets={"smtp.password": "RONDE_SMTP_PASSWORD"})
    assert tenant.secrets == {"smtp.password": "RONDE_SMTP_PASSWORD"}
    with pytest.raises(InvalidInputError, match="variable d'environnement"):
        Tenant(id="RONDE", name="Ronde", secrets={"smtp.password": "s3cr3t!"})
    with pytest.raises(InvalidInputError, match="nom de réglage"):
        Tenant(id="RONDE", name="Ronde", settings={"Portal URL": "x"})
    with pytest.raises(InvalidInputError, match="nom de la commune"):
        Tenant(id="RONDE", name=" ")


def _deployment(folder: Path, tenant: str | None) -> Path:
    text = demo_deployment_text("canteen.db")
    if tenant is not None:
        text = text.replace(
            'url = "sqlite:///canteen.db"\n', f'url = "sqlite:///canteen.db"\ntenant = "{tenant}"\n'
        )
    config = folder / "canteen.toml"
    config.write_text(text, encoding="utf-8")
    return config


def test_the_deployment_names_its_tenant(tmp_path: Path) -> None:
    text = _deployment(tmp_path, "ronde-1").read_text(encoding="utf-8")
    assert parse_deployment(text, base_dir=tmp_path).storage.tenant == "ronde-1"
    assert parse_deployment(demo_deployment_text("x.db")).storage.tenant is None
    with pytest.raises(ConfigurationError) as info:
        parse_deployment(text.replace('"ronde-1"', '"pas un id"'), base_dir=tmp_path)
    assert info.value.path == "storage.tenant"


def test_a_sqlite_file_is_one_commune_whatever_its_tenant(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    storage = SqlStorage.from_url(url, tenant="RONDE")
    try:
        assert storage.tenant is None  # no tenant setting, no tenant column on SQLite
    finally:
        storage.close()


def test_the_registry_commands_say_a_sqlite_file_has_none(tmp_path: Path) -> None:
    config = _deployment(tmp_path, None)
    result = CliRunner().invoke(main, ["tenants", "list", "--config", str(config)])
    assert result.exit_code == 1  # a configuration error: refused, not a usage error
    assert "le registre des communes est dans PostgreSQL" in result.output
    bad = CliRunner().invoke(
        main,
        ["tenants", "add", "RONDE", "--name", "Ronde", "--secret", "smtp", "--config", str(config)],
    )
    assert bad.exit_code == 2
    assert "NOM=VALEUR" in bad.output


def test_a_month_end_job_refuses_a_deployment_working_for_another_commune(
    tmp_path: Path,
) -> None:
    config = _deployment(tmp_path, "CARRE")
    with pytest.raises(ConfigurationError, match="travaille pour la commune CARRE") as info:
        open_commune(Commune(code="RONDE", name="Ronde", deployment=config))
    assert info.value.path == "storage.tenant"
    with open_commune(Commune(code="CARRE", name="Carré", deployment=config)) as canteen:
        assert canteen.deployment.storage.tenant == "CARRE"
