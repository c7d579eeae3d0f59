"""Charging rules: which days are billed, at which price, and why.

The billing input is one :class:`DayFacts` per (child, enrollment, day): was the day booked, was
the child there, was the absence justified, did the organiser close the service. The service
layer builds these from reservations and attendance; this module never looks at them directly.

:func:`decide` applies the rules (post-paid billing) and gives one :class:`DayDecision` per day:

============================================  =================================  ==========
situation                                     rule                               charged
============================================  =================================  ==========
service closed by the organiser (strike...)   ``closed_by_organiser``            no
booked, present                               ``present``                        yes
booked, attendance not recorded               ``booked_not_recorded``            per policy
booked, absent, not justified                 ``absent_unjustified``             yes
booked, absent, justified, within carence     ``justified_absence_carence``      yes
booked, absent, justified, after carence      ``justified_absence``              no
not booked, present                           ``unbooked_present``               yes + surcharge
not booked, cancelled after the deadline      ``late_cancellation``              per policy
not booked, not present                       ``not_booked``                     no
============================================  =================================  ==========

A booking made after the deadline (``late_booking``) is charged with the grid's late-booking
surcharge whenever it is charged.

**Carence.** A justified absence is charged for its first ``carence_days`` days, then free. Days
are counted per *run* of justified absences of one enrollment: the run goes on across closed and
unbooked days and ends at the first booked day that is not a justified absence (the child came
back, or missed the day without a justification) or a day the child ate without booking. A run
that started before the billed period is continued with ``carried_runs``.

:func:`price` turns the charged decisions into :class:`Charge` records priced with the
:class:`~canteen_core.domain.tariffs.TariffBook`; each charge keeps the day, the rule and the price
quote,
so every invoice line can be traced back to them.

The rooms of this package:

* :mod:`~canteen_core.domain.charging.facts`: the facts of a day or a period, the rules and the
  commune's :class:`ChargingPolicy`;
* :mod:`~canteen_core.domain.charging.days`: day by day: :func:`decide` and :func:`price`;
* :mod:`~canteen_core.domain.charging.periods`: over a period: :func:`charge_periods` and
  :class:`ChargedDays`.

Every name below is importable from ``canteen_core.domain.charging`` itself.
"""

from canteen_core.domain.charging.days import Charge, DayDecision, decide, price
from canteen_core.domain.charging.facts import ChargeRule, ChargingPolicy, DayFacts, PeriodFacts
from canteen_core.domain.charging.periods import ChargedDays, charge_periods

__all__ = [
    "Charge",
    "ChargeRule",
    "ChargedDays",
    "ChargingPolicy",
    "DayDecision",
    "DayFacts",
    "PeriodFacts",
    "charge_periods",
    "decide",
    "price",
]
