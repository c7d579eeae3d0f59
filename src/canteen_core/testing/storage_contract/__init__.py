"""The storage contract: what every storage backend guarantees, as tests any backend can run.

canteen runs it on its memory, SQLite and PostgreSQL backends; a third-party backend runs it
too. Import the tests into a test module and give them a ``storage`` fixture that returns an
empty storage of your backend::

    # tests/test_my_backend.py
    import pytest

    from canteen_core.testing.storage_contract import *  # noqa: F403  (the contract's tests)


    @pytest.fixture
    def storage():
        storage = MyStorage.open(StorageSettings(url="mongodb://localhost/test"))
        yield storage
        storage.drop_everything()

The tests check the guarantees the services rely on: all-or-nothing units of work, savepoints,
read-only units, households and documents round-trips, optimistic versioning of reservation
books, headcounts, gapless invoice numbering, one invoice per billing key, accounts, the
outbox and aware datetimes. They use only the ports (:mod:`canteen_core.ports.storage`) and the
sample values of :mod:`canteen_core.testing.samples`.

The rooms of this package:

* :mod:`~canteen_core.testing.storage_contract.transactions`: units of work, savepoints, read-
  only units;
* :mod:`~canteen_core.testing.storage_contract.households`: the household repository;
* :mod:`~canteen_core.testing.storage_contract.documents`: document repositories (enrollments,
  audited notifications...), aware datetimes;
* :mod:`~canteen_core.testing.storage_contract.reservations`: the reservation repository
  (versioned books, headcounts);
* :mod:`~canteen_core.testing.storage_contract.invoices`: invoice numbering, billing keys,
  issued documents;
* :mod:`~canteen_core.testing.storage_contract.accounts_outbox`: accounts and the outbox;
* :mod:`~canteen_core.testing.storage_contract.catalog`: sites and services, versioned.
* :mod:`~canteen_core.testing.storage_contract.enrollment_requests`: families' enrollment
  requests.
* :mod:`~canteen_core.testing.storage_contract.web_state`: the HTTP front end's sessions and
  idempotent responses.
* :mod:`~canteen_core.testing.storage_contract.capacity_menus`: capacity rules (and their
  lock), waiting lists, weekly menus.
* :mod:`~canteen_core.testing.storage_contract.campaigns`: yearly campaigns and answers.
* :mod:`~canteen_core.testing.storage_contract.debit_returns`: direct debits the bank returned.

Every name below is importable from ``canteen_core.testing.storage_contract`` itself.
"""

from canteen_core.testing.storage_contract.accounts_outbox import *  # noqa: F403
from canteen_core.testing.storage_contract.campaigns import *  # noqa: F403
from canteen_core.testing.storage_contract.capacity_menus import *  # noqa: F403
from canteen_core.testing.storage_contract.catalog import *  # noqa: F403
from canteen_core.testing.storage_contract.debit_returns import *  # noqa: F403
from canteen_core.testing.storage_contract.documents import *  # noqa: F403
from canteen_core.testing.storage_contract.enrollment_requests import *  # noqa: F403
from canteen_core.testing.storage_contract.households import *  # noqa: F403
from canteen_core.testing.storage_contract.invoices import *  # noqa: F403
from canteen_core.testing.storage_contract.reservations import *  # noqa: F403
from canteen_core.testing.storage_contract.transactions import *  # noqa: F403
from canteen_core.testing.storage_contract.web_state import *  # noqa: F403

__all__ = sorted(name for name in dict(globals()) if name.startswith("test_"))
