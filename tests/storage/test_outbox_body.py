"""The SQL outbox writes each record's body field by field: the same JSON as the generated
unstructure hook (same data, same key order), and the same error for a naive datetime."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.storage.sql.outbox import _outbox_body
from canteen_core.config.serialization import unstructure
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.notifications import OutgoingMessage
from canteen_core.domain.outbox import DeliveryStatus, OutboxRecord

_ZONES = st.sampled_from([UTC, timezone(timedelta(hours=2)), timezone(timedelta(hours=-5))])
_INSTANTS = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=_ZONES
)
_TEXT = st.text(alphabet=st.sampled_from("aéZ <>&\"'\n\t-€0"), min_size=1, max_size=30)


@st.composite
def _records(draw: st.DrawFn) -> OutboxRecord:
    message = OutgoingMessage(
        id=draw(st.from_regex(r"[a-z][a-z0-9.-]{0,20}", fullmatch=True)),
        kind=draw(st.sampled_from(["invoice-issued", "invitation"])),
        to_address=draw(st.sampled_from(["a@b.fr", "Parent.Name@example.org"])),
        to_name=draw(st.none() | _TEXT.filter(lambda text: "\n" not in text)),
        subject=draw(_TEXT.filter(lambda text: text.strip() and "\n" not in text)),
        text_body=draw(_TEXT.filter(str.strip)),
        html_body=draw(st.none() | _TEXT),
        headers=draw(st.sampled_from([(), (("Auto-Submitted", "auto-generated"),)])),
        created_at=draw(_INSTANTS),
        household_id=draw(st.none() | st.just("H1")),
        account_id=draw(st.none() | st.just("acc-1")),
    )
    return OutboxRecord(
        message=message,
        status=draw(st.sampled_from(list(DeliveryStatus))),
        attempts=draw(st.integers(0, 9)),
        next_attempt_at=draw(_INSTANTS),
        claimed_at=draw(st.none() | _INSTANTS),
        last_attempt_at=draw(st.none() | _INSTANTS),
        last_error=draw(st.none() | _TEXT),
        sent_at=draw(st.none() | _INSTANTS),
    )


@given(record=_records())
def test_outbox_body_is_the_generated_unstructuring(record: OutboxRecord) -> None:
    assert json.dumps(_outbox_body(record)) == json.dumps(unstructure(record))


def test_a_naive_datetime_is_refused_as_by_the_converter() -> None:
    message = OutgoingMessage(
        id="m1",
        kind="invitation",
        to_address="a@b.fr",
        subject="s",
        text_body="t",
        created_at=datetime(2023, 1, 1, tzinfo=UTC),
    )
    record = OutboxRecord(message=message, next_attempt_at=datetime(2023, 1, 1))
    with pytest.raises(InvalidInputError):
        unstructure(record)
    with pytest.raises(InvalidInputError):
        _outbox_body(record)
