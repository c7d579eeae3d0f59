"""Month-end as jobs on Celery (RabbitMQ for messages, Redis for progress and reports).

* :mod:`~canteen_adapters.jobs.registry`: the platform registry (communes and their deployment
  files);
* :mod:`~canteen_adapters.jobs.app`: the Celery application and its delivery guarantees;
* :mod:`~canteen_adapters.jobs.tasks`: the month-end tasks of one commune;
* :mod:`~canteen_adapters.jobs.monthend`: queue a run and follow it;
* :mod:`~canteen_adapters.jobs.report`: a commune's report, in French.

Commands: ``canteen worker`` and ``canteen month-end`` (see docs/jobs.md). Needs the ``jobs``
extra: ``pip install canteen[jobs]``.
"""

from __future__ import annotations

from canteen_adapters.jobs.registry import Commune, Registry, load_registry, parse_registry
from canteen_adapters.jobs.report import CommuneReport, StepReport

__all__ = [
    "Commune",
    "CommuneReport",
    "Registry",
    "StepReport",
    "load_registry",
    "parse_registry",
]
