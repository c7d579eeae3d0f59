"""Ports: what canteen needs from the outside world, as typed Protocols.

Adapters (:mod:`canteen_adapters` and third-party plugins) implement these; the services
(:mod:`canteen_core.services`) call them. A port module imports only the domain.

* :mod:`~canteen_core.ports.storage`: the unit of work and its repositories;
* :mod:`~canteen_core.ports.online_payment`: card and treasury payment providers;
* :mod:`~canteen_core.ports.direct_debit`: direct-debit collections (SEPA) and their items;
* :mod:`~canteen_core.ports.counter_payment`: payments received at the counter.
"""
