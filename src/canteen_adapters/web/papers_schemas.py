"""The JSON bodies of the direct-debit, documents-on-request and payment-return routes.

Same conventions as :mod:`canteen_adapters.web.schemas`: amounts are decimal strings in euros,
dates ``YYYY-MM-DD``, instants ISO 8601 with their offset, French labels ready to show.
"""

from __future__ import annotations

from datetime import date, datetime

import attrs

# -- requests ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MandateBody:
    """Sign a SEPA mandate: the account's IBAN (spaces allowed), the holder's name as the bank
    knows it (default: the payer), the BIC (optional: found from the IBAN) and the ticked
    authorization."""

    iban: str
    holder: str | None = None
    bic: str | None = None
    accept: bool = False


@attrs.frozen(kw_only=True)
class MandateIbanBody:
    """Move the household's active mandate to another account (same mandate reference): the
    new IBAN (spaces allowed) and BIC (optional)."""

    iban: str
    bic: str | None = None


@attrs.frozen(kw_only=True)
class MandateRevocationBody:
    """Leave direct debit: revoke the active mandate (``final_collection``: one last debit
    is still presented)."""

    final_collection: bool = False


@attrs.frozen(kw_only=True)
class DirectDebitRunBody:
    """Collect every open invoice of the households with a mandate on ``collection_date``
    (default: the earliest date the SEPA notice allows)."""

    collection_date: date | None = None


# -- responses -----------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class MandateOut:
    """A SEPA mandate (the IBAN masked but for its country and last four characters);
    ``authorization_id``: the paper holding its signed authorization (a PDF, downloaded from
    ``/api/v1/papers/{id}/file``), when one was filed."""

    reference: str
    household_id: str
    holder: str
    iban: str
    bic: str | None
    signed_on: date
    status: str
    status_label: str
    kind: str
    first_collected_on: date | None
    last_collected_on: date | None
    revoked_on: date | None
    authorization_id: str | None = None


@attrs.frozen(kw_only=True)
class ScheduledDebitOut:
    """An upcoming debit: ``announced`` when already in a bank file and pre-notified,
    otherwise the forecast date of the next run."""

    invoice_id: str
    invoice_number: str
    label: str
    amount: str
    collection_date: date
    announced: bool


@attrs.frozen(kw_only=True)
class PreNotificationOut:
    """The e-mail announcing a collection (``status``: sent, queued, failed, unknown)."""

    collection_date: date
    amount: str
    recipients: list[str]
    status: str
    sent_at: datetime | None


@attrs.frozen(kw_only=True)
class PastDebitOut:
    """A debit whose date has come; ``returned_on`` when the bank returned it."""

    invoice_id: str | None
    invoice_number: str
    amount: str
    collection_date: date
    returned_on: date | None
    reason_code: str | None = None
    reason_label: str | None = None


@attrs.frozen(kw_only=True)
class MandateScheduleOut:
    """A mandate and its debits."""

    mandate: MandateOut
    upcoming: list[ScheduledDebitOut]
    pre_notifications: list[PreNotificationOut]
    past: list[PastDebitOut]


@attrs.frozen(kw_only=True)
class DebitScheduleOut:
    """ "Mes prélèvements": the household's mandates with their debits."""

    household_id: str
    today: date
    earliest_collection: date
    mandates: list[MandateScheduleOut]


@attrs.frozen(kw_only=True)
class DirectDebitRunOut:
    """A direct-debit run: the file's message id (``null`` when nothing was due), how many
    debits for how much, and the households skipped with the reason."""

    message_id: str | None
    collection_date: date
    count: int
    total: str
    skipped: list[str]
    file_url: str | None


@attrs.frozen(kw_only=True)
class DebitReturnOut:
    """A returned debit: the invoice(s), amount, day, the bank's reason code and its label."""

    household_id: str
    end_to_end_id: str
    invoice_ids: list[str]
    amount: str
    returned_on: date
    reason_code: str
    reason_label: str


@attrs.frozen(kw_only=True)
class ReturnFileOut:
    """A loaded return file: its kind and message id, whether it had been loaded already
    (then nothing changed), the debits returned now, the ids returned by an earlier file,
    and one French line summing it up."""

    kind: str
    message_id: str
    already_loaded: bool
    returns: list[DebitReturnOut]
    already_returned: list[str]
    message: str


@attrs.frozen(kw_only=True)
class DocumentOut:
    """A document the family may print (generated when asked, dated ``dated``) and where."""

    kind: str
    title: str
    dated: date
    year: int | None
    start: date | None
    end: date | None
    url: str


@attrs.frozen(kw_only=True)
class PaymentReturnOut:
    """Where an online payment stands when the payer comes back from the provider."""

    provider: str
    transaction_id: str
    invoice_id: str | None
    invoice_number: str | None
    amount: str | None
    provider_result: str | None
    credited: bool
    invoice_balance_due: str | None
    message: str
