"""Portal accounts and email delivery: ``canteen.accounts`` on the facade.

* :class:`AccountService` (:mod:`~canteen_core.services.accounts.service`): the facade
  namespace, each use case in one transaction with its emails queued in the outbox;
* :class:`Accounts` (:mod:`~canteen_core.services.accounts.use_cases`): the use cases
  themselves over an account store (invite, activate, log in, change or reset a password),
  usable without a facade in tests and scripts.
"""

from canteen_core.services.accounts.service import AccountService
from canteen_core.services.accounts.use_cases import Accounts

__all__ = ["AccountService", "Accounts"]
