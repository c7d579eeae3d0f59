"""The domain: pure rules and values of school canteens, with no I/O.

Money, the school calendar, households, enrollments, reservations and their deadlines,
periodicities, attendance, charging rules, tariffs, invoicing, the ledger, mandates and the
accounts model. Modules here import only each other (and the standard library and pure
libraries such as attrs and dateutil): never :mod:`canteen_core.services`,
:mod:`canteen_core.config` nor any adapter. ``tests/test_architecture.py`` checks it.

This is the rule author's package: import from the module that holds a rule (``from
canteen_core.domain.deadlines import WeeklyDeadline``), one idea per module; a new rule kind is
a class in the module of its idea (``docs/contributing.md`` says where). The names a portal
needs are also exported by :mod:`canteen_core`.
"""
