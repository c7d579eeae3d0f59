"""SEPA direct debit collections: pain.008.001.02 valid against the official XSD."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import attrs
import pytest
from lxml import etree

from canteen_adapters.payment.sepa import (
    PAIN_008_NAMESPACE,
    DebitItem,
    SepaCreditor,
    SepaDirectDebit,
    SepaFileExistsError,
    build_collection,
    load_pain008_schema,
    process_returns,
    run_collection,
    sepa_text,
    validate_pain008,
)
from canteen_core.config.deployment import load_deployment
from canteen_core.domain.clock import FixedClock
from canteen_core.domain.errors import (
    ConfigurationError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
    RuleViolationError,
)
from canteen_core.domain.events import DirectDebitAnnounced
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateKind,
    SequenceType,
    check_collection_date,
    is_target2_business_day,
    next_target2_business_day,
)
from canteen_core.domain.money import Money

NS = {"p": PAIN_008_NAMESPACE}
CLOCK = FixedClock(datetime(2023, 9, 20, 8, 0, tzinfo=UTC))
DUE = date(2023, 10, 5)
NEXT_DUE = date(2023, 11, 6)

CREDITOR = SepaCreditor.of(
    name="Régie de la restauration scolaire",
    iban="FR76 3000 4000 0312 3456 7890 143",
    creditor_id="FR72ZZZ123456",
)


def stored_unchecked(mandate: DirectDebitMandate, **values: object) -> DirectDebitMandate:
    """``mandate`` with fields set without their checks, as old stored data may hold them."""
    copy = attrs.evolve(mandate)
    for name, value in values.items():
        object.__setattr__(copy, name, value)
    return copy


def mandate(household: str, iban: str, **changes: object) -> DirectDebitMandate:
    values: dict[str, object] = {
        "reference": f"RUM-{household.upper()}",
        "household_id": household,
        "debtor_name": f"Famille {household.upper()} Hélène",
        "iban": iban,
        "signed_on": date(2023, 9, 1),
    }
    values |= changes
    return DirectDebitMandate(**values)  # type: ignore[arg-type]


MANDATES = {
    "hh1": mandate("hh1", "FR7630006000011234567890189"),  # Crédit Agricole: BIC looked up
    "hh2": mandate("hh2", "FR1420041010050500013M02606", bic="PSSTFRPP"),
    "hh3": mandate("hh3", "DE89370400440532013000"),
}


def item(household: str, number: str, amount: str, **changes: object) -> DebitItem:
    values: dict[str, object] = {
        "household_id": household,
        "invoice_id": f"inv-{number}",
        "invoice_number": number,
        "amount": Money.of(amount),
        "mandate": MANDATES.get(household),
    }
    values |= changes
    return DebitItem(**values)  # type: ignore[arg-type]


def first_items() -> list[DebitItem]:
    return [
        item("hh1", "2023-000101", "42.10"),
        item("hh1", "2023-000102", "3.30"),
        item("hh2", "2023-000103", "13.40"),
        item("hh3", "2023-000104", "61.75"),
    ]


def parse(xml: bytes) -> etree._Element:
    return etree.fromstring(xml)


def test_the_official_schema_is_loaded_from_sepaxml() -> None:
    schema = load_pain008_schema()
    assert isinstance(schema, etree.XMLSchema)
    with pytest.raises(InvalidInputError, match=r"pain\.008"):
        validate_pain008(b'<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"/>')
    with pytest.raises(InvalidInputError, match="XML mal formé"):
        validate_pain008(b"<Document")


def test_generated_file_validates_and_totals_match(tmp_path: Path) -> None:
    target = tmp_path / "prelevements-2023-10.xml"
    run = run_collection(CREDITOR, first_items(), collection_date=DUE, clock=CLOCK, path=target)
    assert target.read_bytes() == run.xml
    document = parse(target.read_bytes())
    assert load_pain008_schema().validate(document)
    header = document.find("p:CstmrDrctDbtInitn/p:GrpHdr", NS)
    assert header is not None
    assert header.findtext("p:NbOfTxs", namespaces=NS) == "4"
    assert header.findtext("p:CtrlSum", namespaces=NS) == "120.55"
    assert run.count == 4
    assert run.control_sum == Money.of("120.55")
    blocks = document.findall("p:CstmrDrctDbtInitn/p:PmtInf", NS)
    assert len(blocks) == 1  # all first collections
    block = blocks[0]
    assert block.findtext("p:PmtTpInf/p:SeqTp", namespaces=NS) == "FRST"
    assert block.findtext("p:NbOfTxs", namespaces=NS) == "4"
    amounts = [Decimal(node.text or "") for node in block.findall("p:DrctDbtTxInf/p:InstdAmt", NS)]
    assert sum(amounts) == Decimal(block.findtext("p:CtrlSum", namespaces=NS) or "")
    assert block.findtext("p:ReqdColltnDt", namespaces=NS) == "2023-10-05"
    assert block.findtext("p:CdtrSchmeId/p:Id/p:PrvtId/p:Othr/p:Id", namespaces=NS) == (
        "FR72ZZZ123456"
    )
    ids = [node.text for node in block.findall("p:DrctDbtTxInf/p:PmtId/p:EndToEndId", NS)]
    assert ids == ["2023-000101", "2023-000102", "2023-000103", "2023-000104"]
    bics = [node.text for node in block.findall("p:DrctDbtTxInf/p:DbtrAgt/p:FinInstnId/p:BIC", NS)]
    assert bics == ["AGRIFRPPXXX", "AGRIFRPPXXX", "PSSTFRPP", "COBADEFFXXX"]
    names = [node.text for node in block.findall("p:DrctDbtTxInf/p:Dbtr/p:Nm", NS)]
    assert names[0] == "Famille HH1 Helene"  # accents transliterated for the bank


def test_pre_notifications_one_per_family(tmp_path: Path) -> None:
    run = build_collection(CREDITOR, first_items(), collection_date=DUE, clock=CLOCK)
    assert all(isinstance(event, DirectDebitAnnounced) for event in run.announcements)
    by_household = {event.household_id: event for event in run.announcements}
    assert set(by_household) == {"hh1", "hh2", "hh3"}
    assert by_household["hh1"].amount == Money.of("45.40")
    assert by_household["hh1"].mandate_reference == "RUM-HH1"
    assert by_household["hh1"].collection_date == DUE
    assert by_household["hh1"].occurred_at == CLOCK.now()


def test_frst_then_rcur_across_two_runs(tmp_path: Path) -> None:
    first = run_collection(
        CREDITOR, first_items(), collection_date=DUE, clock=CLOCK, path=tmp_path / "1.xml"
    )
    updated = {m.household_id: m for m in first.mandates}
    assert all(m.next_sequence_type() is SequenceType.RCUR for m in updated.values())
    newcomer = mandate("hh4", "FR7630004000031234567890143")
    second_items = [
        item("hh1", "2023-000201", "40.00", mandate=updated["hh1"]),
        item("hh2", "2023-000202", "12.00", mandate=updated["hh2"]),
        item("hh4", "2023-000203", "9.90", mandate=newcomer),
    ]
    later = FixedClock(datetime(2023, 10, 20, 8, 0, tzinfo=UTC))
    second = run_collection(
        CREDITOR, second_items, collection_date=NEXT_DUE, clock=later, path=tmp_path / "2.xml"
    )
    groups = {group.sequence_type: group for group in second.groups}
    assert [group.sequence_type for group in second.groups] == [
        SequenceType.FRST,
        SequenceType.RCUR,
    ]
    assert groups[SequenceType.RCUR].count == 2
    assert groups[SequenceType.RCUR].control_sum == Money.of("52.00")
    assert groups[SequenceType.FRST].end_to_end_ids == ("2023-000203",)
    document = parse((tmp_path / "2.xml").read_bytes())
    sequence_types = [
        node.text
        for node in document.findall("p:CstmrDrctDbtInitn/p:PmtInf/p:PmtTpInf/p:SeqTp", NS)
    ]
    assert sequence_types == ["FRST", "RCUR"]
    assert load_pain008_schema().validate(document)


def test_amendment_and_final_collection_in_the_file() -> None:
    collected = MANDATES["hh1"].after_collection(DUE)
    amended = collected.with_new_iban("FR7630004000031234567890143", changed_on=date(2023, 10, 10))
    final = MANDATES["hh2"].after_collection(DUE).revoke(date(2023, 10, 15), final_collection=True)
    later = FixedClock(datetime(2023, 10, 20, 8, 0, tzinfo=UTC))
    run = build_collection(
        CREDITOR,
        [
            item("hh1", "2023-000301", "10.00", mandate=amended),
            item("hh2", "2023-000302", "20.00", mandate=final),
        ],
        collection_date=NEXT_DUE,
        clock=later,
    )
    document = parse(run.xml)
    transactions = document.findall("p:CstmrDrctDbtInitn/p:PmtInf/p:DrctDbtTxInf", NS)
    info = transactions[0].find("p:DrctDbtTx/p:MndtRltdInf", NS)
    assert info is not None
    assert info.findtext("p:AmdmntInd", namespaces=NS) == "true"
    assert info.findtext("p:AmdmntInfDtls/p:OrgnlDbtrAcct/p:Id/p:IBAN", namespaces=NS) == (
        "FR7630006000011234567890189"
    )
    assert [group.sequence_type for group in run.groups] == [SequenceType.RCUR, SequenceType.FNAL]
    updated = {m.household_id: m for m in run.mandates}
    assert updated["hh1"].amendment is None
    assert not updated["hh2"].collectable


def test_rejected_debit_reopens_its_invoice() -> None:
    run = build_collection(CREDITOR, first_items(), collection_date=DUE, clock=CLOCK)
    result = process_returns(run, ["2023-000103", " 2023-000103", "XX-UNKNOWN"])
    assert result.invoice_ids_to_reopen == ("inv-2023-000103",)
    assert result.amount == Money.of("13.40")
    assert result.returned[0].household_id == "hh2"
    assert result.returned[0].sequence_type is SequenceType.FRST
    assert result.unknown_ids == ("XX-UNKNOWN",)
    with pytest.raises(NotFoundError, match="XX-UNKNOWN"):
        process_returns(run.debits, ["XX-UNKNOWN"], strict=True)
    assert process_returns(run, []).invoice_ids_to_reopen == ()


@pytest.mark.parametrize(
    ("items", "error", "match"),
    [
        ([], InvalidInputError, "au moins un prélèvement"),
        (
            [item("hh1", "2023-000101", "10.00"), item("hh9", "2023-000102", "5.00")],
            RuleViolationError,
            "pas de mandat de prélèvement",
        ),
        (
            [
                item("hh1", "2023-000101", "10.00"),
                # A mandate stored before its IBAN was checked (the French RIB key is wrong):
                # the error names the household and the mandate, not an index of the run.
                item(
                    "hh2",
                    "2023-000102",
                    "10.00",
                    mandate=stored_unchecked(MANDATES["hh2"], iban="FR5430006000011234567890100"),
                ),
            ],
            InvalidInputError,
            r"^foyer hh2 \(mandat RUM-HH2, facture 2023-000102\) : IBAN FR54.* invalide : clé RIB",
        ),
        (
            [item("hh1", "2023-000101", "10.00"), item("hh1", "2023-000101", "3.00")],
            InvalidInputError,
            "deux fois",
        ),
        (
            [item("hh1", "2023-000101", "10.00", mandate=MANDATES["hh1"].revoke(date(2023, 9, 5)))],
            RuleViolationError,
            "revoked",
        ),
        (
            [item("hh1", "2023-000101", "10.00", mandate=MANDATES["hh2"])],
            InvalidInputError,
            "appartient au foyer hh2",
        ),
        (
            [
                item("hh1", "2023-000101", "10.00", mandate=MANDATES["hh1"]),
                item(
                    "hh1",
                    "2023-000102",
                    "10.00",
                    mandate=attrs.evolve(MANDATES["hh1"], debtor_name="Autre"),
                ),
            ],
            ConflictError,
            "deux versions différentes",
        ),
        (
            [
                item(
                    "hh1",
                    "2023-000101",
                    "10.00",
                    mandate=attrs.evolve(MANDATES["hh1"], kind=MandateKind.ONE_OFF),
                ),
                item(
                    "hh1",
                    "2023-000102",
                    "10.00",
                    mandate=attrs.evolve(MANDATES["hh1"], kind=MandateKind.ONE_OFF),
                ),
            ],
            RuleViolationError,
            "un seul prélèvement",
        ),
    ],
)
def test_bad_inputs_write_no_file(
    tmp_path: Path, items: list[DebitItem], error: type[Exception], match: str
) -> None:
    target = tmp_path / "out" / "prelevements.xml"
    with pytest.raises(error, match=match):
        run_collection(CREDITOR, items, collection_date=DUE, clock=CLOCK, path=target)
    assert not target.exists()
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("amount", ["0", "-5.00", "1.005"])
def test_zero_negative_or_sub_cent_amounts_are_refused(amount: str) -> None:
    with pytest.raises(InvalidInputError, match="amount"):
        item("hh1", "2023-000101", amount)
    with pytest.raises(InvalidInputError, match="EUR"):
        DebitItem(
            household_id="hh1",
            invoice_id="inv-1",
            invoice_number="2023-000101",
            amount=Money.of("5", "CHF"),
            mandate=MANDATES["hh1"],
        )


def test_notice_period_and_existing_files(tmp_path: Path) -> None:
    target = tmp_path / "f.xml"
    with pytest.raises(RuleViolationError, match="préavis"):
        run_collection(
            CREDITOR, first_items(), collection_date=date(2023, 9, 25), clock=CLOCK, path=target
        )
    assert not target.exists()
    run = build_collection(
        CREDITOR,
        first_items(),
        collection_date=date(2023, 9, 25),
        clock=CLOCK,
        pre_notification_days=2,
    )
    run.write(target)
    with pytest.raises(ConflictError, match="jamais écrasé") as refused:
        run.write(target)
    # Its own class: the month-end job sets an interrupted try's file aside by it.
    assert isinstance(refused.value, SepaFileExistsError)
    assert [p.name for p in tmp_path.iterdir()] == ["f.xml"]  # no temporary left behind


def test_creditor_settings() -> None:
    creditor = SepaCreditor.from_mapping(
        {
            "creditor_name": "Caisse des écoles",
            "creditor_iban": "FR7630004000031234567890143",
            "creditor_id": "fr72zzz123456",
        }
    )
    assert creditor.bic == "BNPAFRPP"
    assert creditor.creditor_id == "FR72ZZZ123456"
    with pytest.raises(ConfigurationError, match="ICS"):
        SepaCreditor.from_mapping(
            {
                "creditor_name": "X",
                "creditor_iban": "FR7630004000031234567890143",
                "creditor_id": "FR12ZZZ123456",
            }
        )
    with pytest.raises(ConfigurationError, match="non configuré"):
        SepaCreditor.from_mapping({"creditor_name": "X"})
    with pytest.raises(ConfigurationError, match="IBAN"):
        SepaCreditor.from_mapping(
            {"creditor_name": "X", "creditor_iban": "FR76300", "creditor_id": "FR72ZZZ123456"}
        )


def test_sepa_text() -> None:
    assert sepa_text("Éloïse Müller & fils", 70) == "Eloise Muller fils"
    assert sepa_text("École élémentaire Ronde — cantine", 20) == "Ecole elementaire Ro"
    assert sepa_text("漢字", 10) == ""


def test_provider_from_deployment_settings_writes_under_output_dir(tmp_path: Path) -> None:
    provider = SepaDirectDebit.from_settings(
        {
            "creditor_name": "Régie cantine",
            "creditor_iban": "FR7630004000031234567890143",
            "creditor_bic": "BNPAFRPP",
            "creditor_id": "FR72ZZZ123456",
            "output_dir": str(tmp_path / "sepa"),
            "pre_notification_days": 5,
        }
    )
    run, path = provider.collect(
        first_items(), collection_date=date(2023, 9, 25), clock=CLOCK, message_id="RUN-2023-09"
    )
    assert path == tmp_path / "sepa" / "pain008-RUN-2023-09.xml"
    assert path.read_bytes() == run.xml
    with pytest.raises(ConfigurationError, match="pre_notification_days"):
        SepaDirectDebit.from_settings({"pre_notification_days": 0})
    with pytest.raises(ConfigurationError, match="réglages inconnus"):
        SepaDirectDebit.from_settings({"iban": "x"})
    in_memory = SepaDirectDebit(CREDITOR)
    assert in_memory.collect(first_items(), collection_date=DUE, clock=CLOCK)[1] is None


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2023, 12, 25), "Noël"),
        (date(2023, 12, 26), "lendemain de Noël"),
        (date(2024, 1, 1), "jour de l'an"),
        (date(2024, 3, 29), "Vendredi saint"),
        (date(2024, 4, 1), "lundi de Pâques"),
        (date(2024, 5, 1), "1er mai"),
        (date(2023, 10, 28), "samedi"),
        (date(2023, 10, 29), "dimanche"),
    ],
)
def test_a_collection_date_must_be_a_target2_business_day(day: date, reason: str) -> None:
    # Issue 14, item 15: banks settle SEPA debits on TARGET2 business days only.
    assert not is_target2_business_day(day)
    with pytest.raises(RuleViolationError, match=f"\\({reason}\\) n'est pas un jour ouvré"):
        build_collection(CREDITOR, first_items(), collection_date=day, clock=CLOCK)


def test_target2_business_days_include_french_public_holidays_that_banks_work() -> None:
    assert is_target2_business_day(date(2023, 11, 1))  # Toussaint: TARGET2 is open
    assert is_target2_business_day(date(2024, 5, 8))
    with pytest.raises(RuleViolationError, match="prochain jour possible : le 27/12/2023"):
        check_collection_date(date(2023, 12, 25))


def test_a_relative_output_dir_is_resolved_against_the_deployment_folder(tmp_path: Path) -> None:
    folder = tmp_path / "commune"
    folder.mkdir()
    (folder / "canteen.toml").write_text(
        '[issuer]\nname = "Régie"\ncode = "RONDE"\n[payment.sepa]\noutput_dir = "sepa"\n',
        encoding="utf-8",
    )
    deployment = load_deployment(folder / "canteen.toml")
    assert deployment.payment["sepa"]["output_dir"] == str(folder.resolve() / "sepa")


def test_next_target2_business_day() -> None:
    assert next_target2_business_day(date(2023, 12, 23)) == date(2023, 12, 27)  # Sat -> Wed
    assert next_target2_business_day(date(2023, 12, 27)) == date(2023, 12, 27)
