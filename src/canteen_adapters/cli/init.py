"""``canteen init``: a new deployment file and its (migrated) SQLite database."""

from __future__ import annotations

import re
from pathlib import Path

import click

from canteen_adapters.cli._common import ArgumentError, fail
from canteen_adapters.cli._operator import config_option
from canteen_core.config.deployment import Deployment, parse_deployment
from canteen_core.domain.calendar import Zone
from canteen_core.domain.errors import CanteenError, ConfigurationError

__all__ = ["command", "deployment_text"]

#: The deployment keys ``canteen init`` writes from its options.
_OPTIONS = {
    "issuer.name": "--issuer-name",
    "issuer.code": "--issuer-code",
    "calendar.zone": "--zone",
    "calendar.department": "--department",
    "billing.mode": "--billing",
    "storage.url": "--db",
}


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def deployment_text(
    *,
    issuer_name: str,
    issuer_code: str,
    database: str,
    zone: str | None,
    department: str | None,
    billing: str,
) -> str:
    """The ``canteen.toml`` ``canteen init`` writes (SQLite, outbox mailer, France calendar)."""
    where = f"zone = {_quoted(zone)}" if zone else f"department = {_quoted(department or '')}"
    return f"""\
# canteen deployment file, written by `canteen init`. Reference: the deployment file page of
# the documentation. Secrets: write "${{ENV_VAR}}" instead of the value.

[storage]
url = {_quoted("sqlite:///" + database)}

[issuer]
name = {_quoted(issuer_name)}
code = {_quoted(issuer_code)}

[billing]
mode = {_quoted(billing)}

[calendar]
source = "france"
{where}

[mail]
adapter = "outbox"          # development: messages kept as .eml files in mail/
folder = "mail"
"""


def _checked(text: str, folder: Path, config: Path) -> Deployment:
    """The deployment ``text`` describes, every value checked: a value refused comes from an
    option, so it is a usage error naming that option (exit status 2), not a configuration
    error."""
    try:
        return parse_deployment(text, base_dir=folder, source=str(config))
    except ConfigurationError as error:
        option = _OPTIONS.get(error.path or "")
        if option is None:
            raise
        reason = error.message.removeprefix(f"{config} : {error.path} : ")
        raise ArgumentError(f"{option} : {reason}") from None


@click.command("init")
@config_option
@click.option(
    "--issuer-name", required=True, help='Régie qui facture, par exemple "Régie de Ronde".'
)
@click.option(
    "--issuer-code", required=True, help="Code court des numéros de facture, par exemple RONDE."
)
@click.option("--zone", metavar="A|B|C", help="Zone de vacances scolaires.")
@click.option("--department", metavar="NN", help="Département (qui donne la zone), par exemple 77.")
@click.option(
    "--db",
    "database",
    default="canteen.db",
    show_default=True,
    help="Fichier SQLite, relatif au dossier du fichier de déploiement.",
)
@click.option(
    "--billing",
    type=click.Choice(["postpaid", "prepaid"]),
    default="postpaid",
    show_default=True,
    help="Mode de facturation : à terme échu (postpaid) ou prépayé (prepaid).",
)
def command(
    config: Path,
    issuer_name: str,
    issuer_code: str,
    zone: str | None,
    department: str | None,
    database: str,
    billing: str,
) -> None:
    """Créer un fichier de déploiement (canteen.toml) et sa base SQLite, migrée.

    \b
        canteen init --issuer-name "Régie de Ronde" --issuer-code RONDE --zone C
        canteen init --config /srv/ronde/canteen.toml --issuer-name "Régie" \\
            --issuer-code RONDE --department 77

    Un fichier existant n'est jamais écrasé. Modifier ensuite le fichier pour PostgreSQL, SMTP
    ou les prestataires de paiement, puis lancer `canteen db upgrade`.
    """
    if (zone is None) == (department is None):
        fail("donnez --zone (A, B ou C) ou --department (ex. 77), l'un ou l'autre", exit_code=2)
    if zone is not None:
        zone = str(Zone.parse(zone))
    if not issuer_name.strip():
        fail("--issuer-name : le nom de la régie est vide", exit_code=2)
    if config.exists():
        fail(f"{config} existe déjà : rien n'a été modifié")
    if not re.fullmatch(r"[^\s\"\\]+\.(db|sqlite|sqlite3)", database):
        fail(f"--db : nom de fichier SQLite invalide « {database} » (ex. canteen.db)", exit_code=2)
    text = deployment_text(
        issuer_name=issuer_name,
        issuer_code=issuer_code,
        database=database,
        zone=zone,
        department=department,
        billing=billing,
    )
    folder = config.resolve().parent
    deployment = _checked(text, folder, config)
    if not folder.is_dir():
        fail(f"le dossier {folder} n'existe pas : rien n'a été modifié")
    from canteen_adapters.storage.sql.migrate import upgrade

    db_file = Path(deployment.storage.url.removeprefix("sqlite:///"))
    existed = db_file.exists()
    try:
        revision = upgrade(deployment.storage.url)
    except CanteenError:
        if not existed:
            db_file.unlink(missing_ok=True)
        raise
    config.write_text(text, encoding="utf-8")
    click.echo(f"Déploiement créé : {config}")
    click.echo(f"Base de données : {db_file} (schéma {revision})")
    click.echo("Étape suivante : canteen enroll ... (voir canteen --help)")
