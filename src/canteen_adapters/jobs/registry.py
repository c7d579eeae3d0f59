"""The platform registry: which communes a hosting platform runs, and their deployment files.

A commune is, for now, one deployment (a ``canteen.toml``); a platform is a small TOML file
listing them::

    # platform.toml
    [[commune]]
    code = "RONDE"                          # unique, letters, digits, - and _
    name = "Ronde"                          # optional, shown in reports
    deployment = "communes/ronde/canteen.toml"   # relative to this file's folder

    [[commune]]
    code = "CARRE"
    deployment = "/srv/carre/canteen.toml"

Errors (unreadable file, bad TOML, a missing key, a duplicate code) raise
:class:`~canteen_core.domain.errors.ConfigurationError` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import attrs

from canteen_core.config.serialization.errors import unknown_fields_fr
from canteen_core.config.toml import parse_toml, read_config_file
from canteen_core.domain.errors import ConfigurationError, NotFoundError

__all__ = ["Commune", "Registry", "load_registry", "parse_registry"]

_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}")
_KEYS = frozenset({"code", "name", "deployment"})


@attrs.frozen(kw_only=True)
class Commune:
    """One commune of the platform: its ``code``, display ``name`` and deployment file."""

    code: str
    name: str
    deployment: Path

    def to_message(self) -> dict[str, str]:
        """The commune as a task argument (JSON)."""
        return {"code": self.code, "name": self.name, "deployment": str(self.deployment)}

    @classmethod
    def from_message(cls, data: Mapping[str, str]) -> Commune:
        """The commune :meth:`to_message` wrote."""
        return cls(code=data["code"], name=data["name"], deployment=Path(data["deployment"]))


@attrs.frozen(kw_only=True)
class Registry:
    """The communes of a platform, in file order (codes unique)."""

    communes: tuple[Commune, ...]

    def select(self, codes: Iterable[str] | None = None) -> tuple[Commune, ...]:
        """The communes named by ``codes`` (all when ``None`` or empty), in registry order;
        :class:`NotFoundError` for an unknown code."""
        wanted = [code.strip() for code in codes or () if code.strip()]
        if not wanted:
            return self.communes
        known = {commune.code for commune in self.communes}
        unknown = [code for code in wanted if code not in known]
        if unknown:
            raise NotFoundError(f"commune inconnue dans le registre : {', '.join(unknown)}")
        return tuple(commune for commune in self.communes if commune.code in set(wanted))

    @classmethod
    def single(cls, deployment: str | Path, *, code: str, name: str | None = None) -> Registry:
        """A platform of one commune (one deployment file)."""
        path = Path(deployment).resolve()
        return cls(communes=(Commune(code=code, name=name or code, deployment=path),))


def _refused(source: str, path: str, message: str) -> ConfigurationError:
    """``platform.toml : commune[0].code : …``: staff read the file and the key at fault."""
    return ConfigurationError(f"{source} : {path} : {message}", path=path)


def _commune(item: Any, index: int, base: Path, source: str) -> Commune:
    path = f"commune[{index}]"
    if not isinstance(item, Mapping):
        raise _refused(source, path, "une table [[commune]] attendue")
    unknown = sorted(set(item) - _KEYS)
    if unknown:
        raise _refused(source, f"{path}.{unknown[0]}", unknown_fields_fr(unknown))
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise _refused(
            source, f"{path}.code", "code de commune invalide (1 à 63 lettres, chiffres, - ou _)"
        )
    name = item.get("name", code)
    if not isinstance(name, str) or not name.strip():
        raise _refused(source, f"{path}.name", "nom de commune vide")
    deployment = item.get("deployment")
    if not isinstance(deployment, str) or not deployment.strip():
        raise _refused(
            source, f"{path}.deployment", "fichier de déploiement de la commune obligatoire"
        )
    file = Path(deployment)
    if not file.is_absolute():
        file = base / file
    return Commune(code=code, name=name.strip(), deployment=file.resolve())


def parse_registry(
    text: str, *, base_dir: str | Path = ".", source: str = "platform.toml"
) -> Registry:
    """Parse registry TOML text (relative deployment paths resolved against ``base_dir``)."""
    data = parse_toml(text, source=source)
    unknown = sorted(set(data) - {"commune"})
    if unknown:
        raise _refused(source, unknown[0], unknown_fields_fr(unknown))
    items = data.get("commune", [])
    if not isinstance(items, list) or not items:
        raise _refused(source, "commune", "au moins une commune [[commune]] attendue")
    base = Path(base_dir).resolve()
    communes = tuple(_commune(item, index, base, source) for index, item in enumerate(items))
    seen: set[str] = set()
    for index, commune in enumerate(communes):
        if commune.code in seen:
            raise _refused(
                source, f"commune[{index}].code", f"code de commune en double : {commune.code}"
            )
        seen.add(commune.code)
    return Registry(communes=communes)


def load_registry(path: str | Path) -> Registry:
    """Load a registry file; relative deployment paths are resolved against its folder."""
    file = Path(path)
    text = read_config_file(file, "registre des communes")
    return parse_registry(text, base_dir=file.resolve().parent, source=str(file))
