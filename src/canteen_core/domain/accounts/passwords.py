"""Passwords: the strength rule, temporary passwords, argon2id hashing and the decoy hash.

Passwords are hashed with argon2id (:class:`argon2.PasswordHasher`, default parameters of
argon2-cffi: RFC 9106's low-memory profile, 64 MiB, 3 passes, 4 lanes, above OWASP's
minimum); a hash made with older parameters is upgraded at the next successful login
(:func:`needs_rehash`). Clear passwords are never stored.

:func:`decoy_hash` is the hash an unknown username is checked against, so that a login for
an unknown user costs one argon2 verification exactly like a wrong password for a known one.
It is computed once per process and per set of hasher parameters: the account use cases are
rebuilt for every call, so a per-instance decoy added a full hash to every unknown-user login
(about twice the time) and revealed which usernames exist.
"""

from __future__ import annotations

import threading

import argon2
from argon2.exceptions import InvalidHashError, VerificationError

from canteen_core.domain.accounts._text import require_text
from canteen_core.domain.accounts.tokens import RandomSource, SystemRandom, urlsafe
from canteen_core.domain.errors import InvalidInputError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "check_password_strength",
    "decoy_hash",
    "hash_password",
    "needs_rehash",
    "require_password",
    "temporary_password",
    "verify_password",
]

#: The longest password accepted at login or when choosing one (characters). Hashing cost
#: does not depend on it much, but an unbounded input is unbounded work.
MAX_PASSWORD_LENGTH = 256

# No 0/O, 1/l/I: the temporary password is read from an email and typed by hand.
_PASSWORD_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"


def require_password(value: object, path: str = "password") -> str:
    """A password as typed at login: text without NUL or lone surrogates, at most
    :data:`MAX_PASSWORD_LENGTH` characters (else :class:`InvalidInputError`)."""
    return require_text(value, path, what="le mot de passe", max_length=MAX_PASSWORD_LENGTH)


def temporary_password(random: RandomSource, length: int) -> str:
    """A random password of ``length`` characters mixing lower case, upper case and digits."""
    alphabet = _PASSWORD_ALPHABET
    while True:  # rejection sampling keeps the draw uniform among valid passwords
        chars = [alphabet[random.randbelow(len(alphabet))] for _ in range(length)]
        if (
            any(c.islower() for c in chars)
            and any(c.isupper() for c in chars)
            and any(c.isdigit() for c in chars)
        ):
            return "".join(chars)


def check_password_strength(
    password: object, *, min_length: int = 12, username: str | None = None
) -> str:
    """Return ``password`` if acceptable, else raise :class:`InvalidInputError` (French).

    The rule follows the CNIL's recommendation: at least ``min_length`` characters mixing at
    least three kinds (lower case, upper case, digits, other), or a long passphrase
    (``min_length + 4`` characters or more) of any kind; never the username. Control
    characters (NUL, tab, line breaks...) and lone surrogates are refused.
    """
    path = "new_password"
    if not isinstance(password, str):
        raise InvalidInputError("le mot de passe doit être un texte", path=path)
    if len(password) < min_length:
        raise InvalidInputError(
            f"le mot de passe doit contenir au moins {min_length} caractères", path=path
        )
    require_password(password, path)
    if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in password):
        raise InvalidInputError("le mot de passe contient un caractère invalide", path=path)
    if password.strip() != password:
        raise InvalidInputError(
            "le mot de passe ne doit pas commencer ni finir par une espace", path=path
        )
    kinds = sum(
        (
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        )
    )
    if kinds < 3 and len(password) < min_length + 4:
        raise InvalidInputError(
            "le mot de passe doit mélanger au moins trois types de caractères (minuscules, "
            f"majuscules, chiffres, caractères spéciaux) ou compter au moins {min_length + 4} "
            "caractères",
            path=path,
        )
    if username is not None and username.lower() in password.lower():
        raise InvalidInputError(
            "le mot de passe ne doit pas contenir le nom d'utilisateur", path=path
        )
    return password


def hash_password(hasher: argon2.PasswordHasher, password: str) -> str:
    """The argon2 hash of ``password`` (a fresh random salt every time)."""
    return hasher.hash(password)


def verify_password(hasher: argon2.PasswordHasher, password_hash: str, password: str) -> bool:
    """Whether ``password`` matches ``password_hash`` (``False`` for a malformed hash)."""
    try:
        return hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(hasher: argon2.PasswordHasher, password_hash: str) -> bool:
    """Whether ``password_hash`` was made with other parameters than ``hasher``'s."""
    return hasher.check_needs_rehash(password_hash)


_DECOYS: dict[tuple[object, ...], str] = {}
_DECOY_LOCK = threading.Lock()


def _parameters(hasher: argon2.PasswordHasher) -> tuple[object, ...]:
    return (
        hasher.type,
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
    )


def decoy_hash(hasher: argon2.PasswordHasher, random: RandomSource | None = None) -> str:
    """The process-wide hash of a random password made with ``hasher``'s parameters.

    Computed on first use for each set of parameters, then reused by every login of an
    unknown username (whatever service instance runs it).
    """
    key = _parameters(hasher)
    decoy = _DECOYS.get(key)
    if decoy is None:
        with _DECOY_LOCK:
            decoy = _DECOYS.get(key)
            if decoy is None:
                password = urlsafe((random or SystemRandom()).token_bytes(16))
                decoy = _DECOYS[key] = hasher.hash(password)
    return decoy
