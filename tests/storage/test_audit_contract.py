"""The audit log contract (:mod:`canteen_core.testing.audit_contract`), run unchanged on memory,
a SQLite file and PostgreSQL (the ``storage`` fixture of ``conftest.py``)."""

from __future__ import annotations

from canteen_core.testing.audit_contract import *  # noqa: F403  (the contract's tests)
