"""The one rule for text that enters the accounts (usernames, emails, passwords, logins).

Text must be a ``str`` without NUL and without lone surrogates (which cannot be encoded in
UTF-8, so no backend could store or hash them) and not longer than a cap. Refusals are
:class:`~canteen_core.domain.errors.InvalidInputError` with a French message, the same on every
storage backend.
"""

from __future__ import annotations

import re

from canteen_core.domain.errors import InvalidInputError

__all__ = ["require_text"]

_UNENCODABLE = re.compile("[\x00\ud800-\udfff]")


def require_text(value: object, path: str, *, what: str, max_length: int) -> str:
    """``value`` if it is acceptable text, else :class:`InvalidInputError`.

    ``what`` names the field in the French message (``"le mot de passe"``).
    """
    if not isinstance(value, str):
        raise InvalidInputError(f"{what} doit être un texte", path=path)
    if len(value) > max_length:
        raise InvalidInputError(f"{what} ne doit pas dépasser {max_length} caractères", path=path)
    if _UNENCODABLE.search(value):
        raise InvalidInputError(f"{what} contient un caractère invalide", path=path)
    return value
