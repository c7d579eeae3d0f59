"""The facade under fuzzing: only the library's errors escape, and a refused call changes nothing.

Every public method of every namespace of :class:`~canteen_core.services.Canteen` is found by
introspection (:func:`._facade.facade_methods`), so a method added later is fuzzed without a line
here. Arguments are built from the signatures: well-formed values of the seed's world (so calls
reach the use cases) mixed with wrong types, extreme dates and amounts, NUL bytes, lone
surrogates and huge strings (:data:`._facade.NASTY`). Two tests per backend (memory, SQLite,
PostgreSQL):

* :func:`test_sweep` puts every wrong value in every parameter of every method in turn, the other
  parameters well formed (deterministic, about 9,500 calls);
* :func:`test_random_calls` lets Hypothesis combine them (a few hundred calls).

After a refused call (a :class:`~canteen_core.domain.errors.CanteenError`) the stored state is
compared with a snapshot taken before it: every row of every table, or the memory storage's data.

No raw exception is tolerated: the ones the first runs found (``payments.refund("1E+26")``
raised ``decimal.InvalidOperation``, billing runs of ``"9999-12"`` raised ``ValueError``) are fixed.
"""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from canteen_core.domain.errors import CanteenError
from canteen_core.services import Canteen
from services._world import ADMIN, World

from ._facade import Watch, arguments, facade_methods, short, snapshot, sweep

pytestmark = pytest.mark.fuzz

#: Refusals that write on purpose, so the "nothing changed" check does not apply to them.
RECORDS_REFUSALS = {
    "accounts.login": "a failed login is counted (throttling)",
    "payments.handle_notification": "a refused notification is audited",
}


def _call(method: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> str | None:
    """Run one call; ``None`` if it returned, the error class name if it was refused; raw
    exceptions propagate."""
    try:
        method(*args, **kwargs)
    except CanteenError as error:
        return type(error).__name__
    return None


def _where(error: BaseException) -> str:
    frame = traceback.extract_tb(error.__traceback__)[-1]
    return f"{frame.filename.rsplit('/src/', 1)[-1]}:{frame.lineno}"


def _check_unchanged(canteen: Canteen, name: str, before: object, what: str) -> object:
    after = snapshot(canteen)
    if name not in RECORDS_REFUSALS:
        assert after == before, f"{what} was refused but changed the stored state"
    return after


def test_every_namespace_method_is_fuzzed(fuzz_world: World) -> None:
    """The introspection finds the namespaces' methods (a guard against fuzzing nothing)."""
    methods = facade_methods(fuzz_world.canteen)
    namespaces = {name.split(".")[0] for name in methods}
    assert {
        "reservations",
        "families",
        "attendance",
        "kitchen",
        "billing",
        "payments",
    } <= namespaces
    assert {"reservations.tick_range", "billing.run_postpaid", "accounts.login"} <= set(methods)
    # The snapshot sees a committed change (else "nothing changed" would prove nothing).
    before = snapshot(fuzz_world.canteen)
    fuzz_world.canteen.reservations.book(ADMIN, "e-alban", date(2023, 10, 2))
    assert snapshot(fuzz_world.canteen) != before


def test_sweep(fuzz_world: World) -> None:
    """Every wrong value in every parameter of every facade method, one at a time."""
    canteen = fuzz_world.canteen
    watch = Watch(canteen)
    failures: list[str] = []
    state = snapshot(canteen)
    calls = 0
    for name, method in facade_methods(canteen).items():
        for parameter, label, args, kwargs in sweep(method):
            calls += 1
            what = f"{name}({parameter}={label})"
            opened = watch.opened
            try:
                refused = _call(method, args, kwargs)
            except Exception as error:  # what the fuzz is looking for
                failures.append(f"{what}: {type(error).__name__} at {_where(error)}: {error}")
                state = snapshot(canteen)
                continue
            if watch.opened == opened:
                continue  # refused or answered before any unit of work: nothing stored moved
            # After a refusal: compared with the state before; after a success: retaken.
            state = _check_unchanged(canteen, name, state, what) if refused else snapshot(canteen)
    assert not failures, "\n".join(failures)
    assert calls > 1000


#: Random calls per backend; ``CANTEEN_FUZZ_EXAMPLES=5000`` for a deeper run by hand (the
#: default keeps the whole suite, three backends, under two minutes in CI).
EXAMPLES = int(os.environ.get("CANTEEN_FUZZ_EXAMPLES", "150"))


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
def test_random_calls(fuzz_world: World, data: st.DataObject) -> None:
    """Hypothesis combines well-formed and wrong values across parameters and calls."""
    canteen = fuzz_world.canteen
    methods = facade_methods(canteen)
    name = data.draw(st.sampled_from(sorted(methods)), label="method")
    method = methods[name]
    args, kwargs = data.draw(arguments(method), label="arguments")
    before = snapshot(canteen)
    what = f"{name}({', '.join(map(short, args))}, {short(kwargs)})"
    try:
        refused = _call(method, args, kwargs)
    except Exception as error:  # what the fuzz is looking for
        raise AssertionError(f"{what}: {type(error).__name__} at {_where(error)}") from error
    if refused:
        _check_unchanged(canteen, name, before, what)
