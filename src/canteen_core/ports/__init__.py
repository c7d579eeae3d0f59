"""Ports: what canteen needs from the outside world, as typed Protocols.

Adapters (:mod:`canteen_adapters` and third-party plugins) implement these; the services
(:mod:`canteen_core.services`) call them. A port module imports only the domain (and other
ports), never the services nor the configuration.

* :mod:`~canteen_core.ports.storage`: the unit of work and its repositories.
* :mod:`~canteen_core.ports.mail`: what a mailer must do (send, optionally remember).
* :mod:`~canteen_core.ports.calendar`: calendar data, a holiday source's school years.
* :mod:`~canteen_core.ports.settings`: what each adapter factory is given (its deployment
  section: storage, mail, calendar).
* :mod:`~canteen_core.ports.backends`: the named records provider hooks return
  (:class:`~canteen_core.ports.backends.StorageBackend`...), each with the factory building
  the adapter.
* :mod:`~canteen_core.ports.online_payment`: card and treasury payment providers.
* :mod:`~canteen_core.ports.direct_debit`: direct-debit collections (SEPA) and their items.
* :mod:`~canteen_core.ports.counter_payment`: payments received at the counter.
"""
