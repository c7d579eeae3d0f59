"""SEPA mandates: IBAN and ICS checksums, references, sequence types, amendments."""

from __future__ import annotations

from datetime import date

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from schwifty import IBAN

from canteen_core.domain.errors import InvalidInputError, RuleViolationError
from canteen_core.domain.mandates import (
    DirectDebitMandate,
    MandateKind,
    MandateStatus,
    SequenceType,
    creditor_identifier_check_digits,
    is_valid_creditor_identifier,
    is_valid_iban,
    normalize_iban,
    validate_bic,
    validate_creditor_identifier,
    validate_iban,
    validate_mandate_reference,
)

GOOD_IBAN = "FR7630006000011234567890189"
OTHER_IBAN = "FR1420041010050500013M02606"
THIRD_IBAN = "DE89370400440532013000"

countries = st.sampled_from(["FR", "DE", "BE", "ES", "IT", "NL", "LU", "MC"])


# French IBANs built by schwifty from a bank code, a branch code and an account number: the
# national check digits (clé RIB) and the ISO 7064 check digits are right by construction.
french_ibans = st.builds(
    lambda bank, branch, account: str(
        IBAN.generate("FR", bank_code=bank, branch_code=branch, account_code=account).compact
    ),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
    st.text(alphabet="0123456789", min_size=5, max_size=5),
    st.text(alphabet="0123456789", min_size=11, max_size=11),
)


@given(french_ibans)
def test_generated_iban_is_valid_and_read_in_its_paper_form(iban: str) -> None:
    assert is_valid_iban(iban)
    assert validate_iban(" ".join(iban[i : i + 4] for i in range(0, len(iban), 4))) == iban


@given(french_ibans, st.integers(min_value=0), st.sampled_from("0123456789"))
def test_iban_single_digit_error_is_caught(iban: str, position: int, replacement: str) -> None:
    index = 2 + position % (len(iban) - 2)  # a check digit or a BBAN digit
    if iban[index] == replacement:
        return
    wrong = iban[:index] + replacement + iban[index + 1 :]
    assert not is_valid_iban(wrong)


@given(french_ibans, st.integers(min_value=0))
def test_iban_adjacent_transposition_is_caught(iban: str, position: int) -> None:
    index = 4 + position % (len(iban) - 5)
    if iban[index] == iban[index + 1]:
        return
    swapped = iban[:index] + iban[index + 1] + iban[index] + iban[index + 2 :]
    assert not is_valid_iban(swapped)


def test_iban_of_the_wrong_length_with_a_valid_checksum_is_refused() -> None:
    # 25 characters, ISO 7064 check digits right, but a French IBAN has 27 (issue 14, item 7).
    with pytest.raises(InvalidInputError, match="longueur incorrecte"):
        validate_iban("FR04300060000112345678901")
    with pytest.raises(InvalidInputError, match="longueur"):
        mandate(iban="FR04300060000112345678901")


@given(national=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=6, max_size=6))
def test_french_ics_with_computed_check_digits_is_valid(national: str) -> None:
    ics = "FR" + creditor_identifier_check_digits("FR", national) + "ZZZ" + national
    assert is_valid_creditor_identifier(ics)
    # The creditor business code is not part of the checksum: any code is accepted.
    assert is_valid_creditor_identifier(ics[:4] + "ABC" + ics[7:])


@given(
    national=st.text(alphabet="0123456789", min_size=6, max_size=6),
    position=st.integers(0, 5),
    replacement=st.sampled_from("0123456789"),
)
def test_ics_single_digit_error_is_caught(national: str, position: int, replacement: str) -> None:
    ics = "FR" + creditor_identifier_check_digits("FR", national) + "ZZZ" + national
    if national[position] == replacement:
        return
    wrong = ics[: 7 + position] + replacement + ics[8 + position :]
    assert not is_valid_creditor_identifier(wrong)


def test_known_identifiers() -> None:
    assert is_valid_iban("FR76 3000 6000 0112 3456 7890 189")
    assert is_valid_iban(THIRD_IBAN)
    assert not is_valid_iban("FR7630006000011234567890188")
    assert not is_valid_iban("FR76")
    assert normalize_iban(" fr76 3000 6000 0112 3456 7890 189 ") == GOOD_IBAN
    assert is_valid_creditor_identifier("FR72ZZZ123456")
    assert is_valid_creditor_identifier("fr72 zzz 123456")
    assert not is_valid_creditor_identifier("FR12ZZZ123456")  # the usual placeholder: bad sum
    assert not is_valid_creditor_identifier("FR72ZZZ12345")  # French ICS: 13 characters
    assert validate_creditor_identifier("fr72zzz123456") == "FR72ZZZ123456"
    with pytest.raises(InvalidInputError, match="ICS"):
        validate_creditor_identifier("FR12ZZZ123456")
    with pytest.raises(InvalidInputError, match="clé de contrôle incorrecte"):
        validate_iban("FR7630006000011234567890188")
    with pytest.raises(InvalidInputError, match="IBAN HELLO invalide"):
        validate_iban("hello")


def test_bic_format() -> None:
    assert validate_bic("agrifrpp") == "AGRIFRPP"
    assert validate_bic("BNPAFRPPXXX") == "BNPAFRPPXXX"
    for bad in ("AGRIFRP", "AGRIFRPPXX", "1GRIFRPP", "AGRI12PP"):
        with pytest.raises(InvalidInputError, match="BIC"):
            validate_bic(bad)


def test_mandate_reference_rules() -> None:
    assert validate_mandate_reference("RUM-2023/000123") == "RUM-2023/000123"
    validate_mandate_reference("A" * 35)
    for bad in ("", "A" * 36, "RUM 123", "RUM_123", "/RUM1", "RUM1/", "RUM//1", "RUMé1"):
        with pytest.raises(InvalidInputError, match="reference"):
            validate_mandate_reference(bad)


def mandate(**changes: object) -> DirectDebitMandate:
    values: dict[str, object] = {
        "reference": "RUM-HH1-001",
        "household_id": "hh-1",
        "debtor_name": "Maman CONCERTO",
        "iban": "FR76 3000 6000 0112 3456 7890 189",
        "signed_on": date(2023, 9, 1),
    }
    values |= changes
    return DirectDebitMandate(**values)  # type: ignore[arg-type]


def test_mandate_normalizes_and_validates() -> None:
    m = mandate(bic="agrifrpp")
    assert m.iban == GOOD_IBAN
    assert m.bic == "AGRIFRPP"
    assert m.status is MandateStatus.ACTIVE
    with pytest.raises(InvalidInputError, match="iban"):
        mandate(iban="FR7630006000011234567890188")
    with pytest.raises(InvalidInputError, match="debtor_name"):
        mandate(debtor_name=" ")
    with pytest.raises(InvalidInputError, match="debtor_name"):
        mandate(debtor_name="X" * 71)
    with pytest.raises(InvalidInputError, match="reference"):
        mandate(reference="RUM 1")


def test_recurrent_mandate_goes_frst_then_rcur() -> None:
    m = mandate()
    assert m.next_sequence_type() is SequenceType.FRST
    m = m.after_collection(date(2023, 10, 5))
    assert m.next_sequence_type() is SequenceType.RCUR
    assert m.first_collected_on == date(2023, 10, 5)
    m = m.after_collection(date(2023, 11, 5))
    assert m.next_sequence_type() is SequenceType.RCUR
    assert m.first_collected_on == date(2023, 10, 5)
    assert m.last_collected_on == date(2023, 11, 5)


def test_one_off_mandate_is_used_once() -> None:
    m = mandate(kind=MandateKind.ONE_OFF)
    assert m.next_sequence_type() is SequenceType.OOFF
    used = m.after_collection(date(2023, 10, 5))
    assert used.status is MandateStatus.COMPLETED
    with pytest.raises(RuleViolationError, match="completed"):
        used.next_sequence_type()


def test_revocation_with_a_final_collection() -> None:
    m = mandate().after_collection(date(2023, 10, 5))
    final = m.revoke(date(2023, 12, 1), final_collection=True)
    assert final.status is MandateStatus.FINAL_PENDING
    assert final.next_sequence_type() is SequenceType.FNAL
    done = final.after_collection(date(2023, 12, 5))
    assert done.status is MandateStatus.COMPLETED
    with pytest.raises(RuleViolationError):
        done.check_collectable(date(2024, 1, 5))


def test_revocation_without_final_collection_stops_debits() -> None:
    m = mandate().revoke(date(2023, 12, 1))
    assert m.status is MandateStatus.REVOKED
    assert not m.collectable
    with pytest.raises(RuleViolationError, match="revoked"):
        m.next_sequence_type()
    with pytest.raises(RuleViolationError, match="already"):
        m.revoke(date(2023, 12, 2))
    with pytest.raises(RuleViolationError, match="FNAL"):
        mandate().revoke(date(2023, 12, 1), final_collection=True)


def test_collection_dates_are_checked() -> None:
    m = mandate()
    with pytest.raises(RuleViolationError, match="est signé le"):
        m.check_collectable(date(2023, 8, 31))
    assert m.lapses_on() == date(2026, 9, 1)
    with pytest.raises(RuleViolationError, match="caduc"):
        m.check_collectable(date(2026, 9, 1))
    used = m.after_collection(date(2024, 1, 31))
    assert used.lapses_on() == date(2027, 1, 31)


def test_iban_change_is_an_amendment_with_the_original_iban() -> None:
    m = mandate(bic="BNPAFRPP").after_collection(date(2023, 10, 5))
    amended = m.with_new_iban(OTHER_IBAN, changed_on=date(2023, 11, 2))
    assert amended.iban == OTHER_IBAN
    assert amended.reference == m.reference
    assert amended.bic is None  # the old bank's BIC no longer applies
    assert amended.amendment is not None
    assert amended.amendment.original_iban == GOOD_IBAN
    # Changed twice before the next debit: the bank still knows the first one.
    twice = amended.with_new_iban(THIRD_IBAN, changed_on=date(2023, 11, 3))
    assert twice.amendment is not None
    assert twice.amendment.original_iban == GOOD_IBAN
    # Back to the original before any debit: nothing to tell the bank.
    back = twice.with_new_iban(GOOD_IBAN, changed_on=date(2023, 11, 4))
    assert back.amendment is None
    # The next collection carries the amendment, then it is cleared.
    collected = twice.after_collection(date(2023, 12, 5))
    assert collected.amendment is None
    assert collected.next_sequence_type() is SequenceType.RCUR


def test_iban_change_before_first_debit_needs_no_amendment() -> None:
    m = mandate().with_new_iban(OTHER_IBAN, changed_on=date(2023, 9, 10))
    assert m.amendment is None
    assert m.next_sequence_type() is SequenceType.FRST


def test_bad_changes_leave_the_mandate_unchanged() -> None:
    m = mandate()
    before = attrs.asdict(m)
    with pytest.raises(InvalidInputError):
        m.with_new_iban("FR00BAD", changed_on=date(2023, 9, 10))
    with pytest.raises(InvalidInputError, match="current"):
        m.with_new_iban(GOOD_IBAN, changed_on=date(2023, 9, 10))
    with pytest.raises(InvalidInputError, match="changed_on"):
        m.with_new_iban(OTHER_IBAN, changed_on="2023-09-10")  # type: ignore[arg-type]
    with pytest.raises(RuleViolationError):
        m.revoke(date(2023, 9, 2)).with_new_iban(OTHER_IBAN, changed_on=date(2023, 9, 10))
    assert attrs.asdict(m) == before
