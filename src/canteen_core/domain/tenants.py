"""The communes (tenants) a hosting platform runs in one database, as its registry lists them.

A :class:`Tenant` is a commune's id (what its deployment names as ``[storage] tenant``), a
display name, free settings, and its secrets **by reference**: the name of the environment
variable holding each one on the platform's machines, never the value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import attrs

from canteen_core.domain.errors import InvalidInputError

__all__ = ["TENANT_ID_PATTERN", "Tenant", "check_tenant_id"]

#: A commune id: what ``[storage] tenant`` and the registry accept.
TENANT_ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,62}"

_TENANT_ID = re.compile(TENANT_ID_PATTERN)
_SETTING = re.compile(r"[a-z][a-z0-9_.-]{0,62}")
_ENV_NAME = re.compile(r"[A-Z_][A-Z0-9_]{0,127}")


def check_tenant_id(value: object) -> str:
    """``value`` if it is a commune id (1-63 letters, digits, ``-`` or ``_``), else
    :class:`InvalidInputError`."""
    if not isinstance(value, str) or not _TENANT_ID.fullmatch(value):
        raise InvalidInputError(
            f"identifiant de commune invalide : {value!r} (lettres, chiffres, - et _)",
            path="id",
        )
    return value


def _named_texts(
    value: Mapping[str, Any],
    *,
    path: str,
    noun: str,
    accepts: Callable[[object], bool],
    refusal: str,
) -> dict[str, str]:
    """``value`` as a dict of texts whose keys are setting names (refused in French naming
    the ``noun``); an item ``accepts`` refuses raises ``refusal`` (``{key}`` is its key)."""
    texts: dict[str, str] = {}
    for key, item in dict(value).items():
        if not isinstance(key, str) or not _SETTING.fullmatch(key):
            raise InvalidInputError(
                f"nom de {noun} invalide : {key!r} (minuscules, chiffres, . - _)", path=path
            )
        if not accepts(item):
            raise InvalidInputError(refusal.format(key=key), path=path)
        texts[key] = item
    return texts


def _settings(value: Mapping[str, Any]) -> dict[str, str]:
    return _named_texts(
        value,
        path="settings",
        noun="réglage",
        accepts=lambda item: isinstance(item, str),
        refusal="le réglage {key} doit être un texte",
    )


def _secrets(value: Mapping[str, Any]) -> dict[str, str]:
    return _named_texts(
        value,
        path="secrets",
        noun="secret",
        accepts=lambda item: isinstance(item, str) and _ENV_NAME.fullmatch(item) is not None,
        refusal="le secret {key} se donne par le nom d'une variable d'environnement "
        "(majuscules, chiffres, _), pas par sa valeur",
    )


def _name(_: Any, attribute: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or not value.strip() or len(value) > 200:
        raise InvalidInputError(
            "le nom de la commune est requis (200 caractères au plus)", path="name"
        )


@attrs.frozen(kw_only=True)
class Tenant:
    """One commune of the platform's registry.

    ``settings`` are free text values (``"portal.url"``: ``"https://famille.ronde.fr"``);
    ``secrets`` name, for each secret, the environment variable holding it
    (``"smtp.password"``: ``"RONDE_SMTP_PASSWORD"``).
    """

    id: str = attrs.field(converter=check_tenant_id)
    name: str = attrs.field(validator=_name)
    settings: dict[str, str] = attrs.field(factory=dict, converter=_settings)
    secrets: dict[str, str] = attrs.field(factory=dict, converter=_secrets)
    created_at: datetime | None = None
