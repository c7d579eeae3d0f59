"""canteen.toml: typed settings, key paths in errors, secrets from the environment, paths."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from canteen_core.config.deployment import (
    BillingMode,
    Deployment,
    load_deployment,
    parse_deployment,
    resolve_sqlite_url,
)
from canteen_core.domain.calendar import Zone
from canteen_core.domain.errors import ConfigurationError, InvalidInputError

MINIMAL = """
[issuer]
name = "Régie de restauration scolaire de Ronde"
code = "RONDE"
"""

FULL = """
timezone = "Europe/Paris"

[storage]
url = "postgresql://canteen:${DB_PASSWORD}@db.ronde.fr/canteen"
schema = "ronde"
migrate = false

[issuer]
name = "Régie de restauration scolaire de Ronde"
code = "RONDE"
siret = "21750001600019"

[billing]
mode = "prepaid"

[calendar]
source = "france"
zone = "C"

[mail]
adapter = "smtp"
sender = "Restauration scolaire <cantine@ronde.fr>"
host = "smtp.ronde.fr"
port = 587
security = "starttls"
username = "cantine"
password = "${SMTP_PASSWORD}"

[payment.payzen]
site_id = "12345678"
key = "${PAYZEN_KEY}"
mode = "TEST"

[portal]
opening_date = 2023-08-21
url = "https://famille.ronde.fr"

[plugins]
blocked = ["accounting"]
"""

ENV = {"DB_PASSWORD": "s3cret", "SMTP_PASSWORD": "m@il", "PAYZEN_KEY": "k3y"}


def test_a_minimal_file_gets_the_defaults(tmp_path: Path) -> None:
    file = tmp_path / "canteen.toml"
    file.write_text(MINIMAL, encoding="utf-8")
    deployment = load_deployment(file, environ={})
    assert deployment.issuer.code == "RONDE"
    assert deployment.storage.adapter == "sql"
    assert deployment.storage.url == f"sqlite:///{tmp_path.resolve() / 'canteen.db'}"
    assert deployment.storage.migrate is True
    assert deployment.timezone == "Europe/Paris"
    assert str(deployment.zoneinfo) == "Europe/Paris"
    assert deployment.billing.mode is BillingMode.POSTPAID
    assert (deployment.calendar.source, deployment.mail.adapter) == ("france", "outbox")
    assert deployment.base_dir == tmp_path.resolve()


def test_a_full_file_with_secrets_from_the_environment() -> None:
    deployment = parse_deployment(FULL, environ=ENV)
    assert deployment.storage.url == "postgresql://canteen:s3cret@db.ronde.fr/canteen"
    assert (deployment.storage.schema, deployment.storage.migrate) == ("ronde", False)
    assert deployment.billing.mode is BillingMode.PREPAID
    assert deployment.calendar.zone is Zone.C
    assert deployment.mail.password == "m@il"
    assert "m@il" not in repr(deployment.mail)  # secrets stay out of logs
    assert deployment.payment == {"payzen": {"site_id": "12345678", "key": "k3y", "mode": "TEST"}}
    assert deployment.portal.opening_date == date(2023, 8, 21)
    assert deployment.plugins.blocked == ("accounting",)


def test_memory_storage_and_escaped_dollars() -> None:
    text = MINIMAL + '[storage]\nurl = "memory://"\n[portal]\nname = "Coût: $${PRIX}"\n'
    deployment = parse_deployment(text, environ={})
    assert deployment.storage.adapter == "memory"
    assert deployment.portal.name == "Coût: ${PRIX}"


@pytest.mark.parametrize(
    ("text", "path", "message"),
    [
        ("[issuer]\nname = 'x'\n", "issuer.code", "champ obligatoire manquant"),
        ("", "issuer", "champ obligatoire manquant"),
        ("colour = 'blue'\n" + MINIMAL, "colour", "colour : champ inconnu"),
        (
            MINIMAL + "[storage]\nurll = 'sqlite:///x.db'\n",
            "storage.urll",
            "storage.urll : champ inconnu",
        ),
        (MINIMAL + "[storage]\nurl = 'canteen.db'\n", "storage.url", "commence par son schéma"),
        (MINIMAL + "[storage]\nmigrate = 'no'\n", "storage.migrate", "true ou false"),
        (MINIMAL + "[storage]\nschema = 'a;drop'\n", "storage.schema", "identifiant SQL"),
        ("timezone = 'Mars/Olympus'\n" + MINIMAL, "timezone", "fuseau horaire inconnu"),
        (MINIMAL + "[billing]\nmode = 'weekly'\n", "billing.mode", "possibles : prepaid, postpaid"),
        (MINIMAL + "[calendar]\nzone = 'D'\n", "calendar.zone", "valeur inconnue « D »"),
        (MINIMAL + "[calendar]\ndepartment = '99'\n", "calendar.department", "department"),
        (MINIMAL + "[mail]\nadapter = 'smtp'\n", "mail.host", "demande un hôte"),
        (MINIMAL + "[mail]\nsender = ''\n", "mail.sender", "ne doit pas être vide"),
        (MINIMAL + "[mail]\nadapter = 'smtp'\nhost = 'h'\nsender = ' '\n", "mail.sender", "sender"),
        (MINIMAL + "[mail]\nport = 70000\n", "mail.port", "port TCP"),
        (MINIMAL + "[mail]\nport = '25'\n", "mail.port", "nombre entier"),
        (MINIMAL + "[mail]\nusername = 'u'\n", "mail.password", "vont ensemble"),
        (MINIMAL + "[mail]\npassword = '${NOPE}'\nusername = 'u'\n", "mail.password", "NOPE"),
        (MINIMAL + "[payment.payzen]\nkey = '${NOPE}'\n", "payment.payzen.key", "NOPE"),
        (MINIMAL + "[portal]\nopening_date = 'soon'\n", "portal.opening_date", "ISO 8601"),
        (MINIMAL + "[plugins]\nblocked = 'x'\n", "plugins.blocked", ""),
        ("[issuer]\nname = 'x'\ncode = 'R O'\n", "issuer.code", "lettres"),
        ("[issuer]\nname = 'x'\ncode = 'R'\nsiret = '123'\n", "issuer.siret", "14 chiffres"),
        ("base_dir = '/etc'\n" + MINIMAL, "base_dir", "champ inconnu"),
    ],
)
def test_bad_files_name_the_key(text: str, path: str, message: str) -> None:
    with pytest.raises(ConfigurationError) as info:
        parse_deployment(text, environ={})
    assert info.value.path == path
    assert message in str(info.value)
    assert isinstance(info.value, InvalidInputError)  # a ConfigurationError is bad input


def test_not_toml_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="TOML invalide, ligne 1, colonne 8"):
        parse_deployment("[issuer\n")
    with pytest.raises(ConfigurationError, match="fichier de déploiement illisible"):
        load_deployment(tmp_path / "absent.toml")


def test_relative_paths_follow_the_file_not_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "deploy"
    folder.mkdir()
    (folder / "canteen.toml").write_text(
        MINIMAL + '[storage]\nurl = "sqlite:///data/c.db"\n[mail]\nfolder = "mails"\n',
        encoding="utf-8",
    )
    monkeypatch.chdir(tmp_path)
    deployment = load_deployment("deploy/canteen.toml", environ={})
    assert deployment.storage.url == f"sqlite:///{(folder / 'data' / 'c.db').resolve()}"
    assert deployment.mail.folder == str(folder.resolve() / "mails")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///c.db", "sqlite:////base/c.db"),
        ("sqlite:///c.db?timeout=5", "sqlite:////base/c.db?timeout=5"),
        ("sqlite:////var/lib/c.db", "sqlite:////var/lib/c.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
    ],
)
def test_resolve_sqlite_url(url: str, expected: str) -> None:
    assert resolve_sqlite_url(url, "/base") == expected


def test_from_mapping_refuses_non_tables() -> None:
    with pytest.raises(ConfigurationError):
        Deployment.from_mapping(["not", "a", "table"])  # type: ignore[arg-type]
