"""Enums declaring their French label beside their value: the stored values do not change."""

from __future__ import annotations

import pickle

import pytest

from canteen_core.config.serialization import structure, unstructure
from canteen_core.domain._labelled import LabelledEnum
from canteen_core.domain.allergens import Allergen
from canteen_core.domain.campaigns import AnswerState
from canteen_core.domain.capacity import WaitingStatus
from canteen_core.domain.change_requests import RequestStatus
from canteen_core.domain.family_papers import PaperKind
from canteen_core.domain.ledger import InvoiceStatus, PaymentMethod
from canteen_core.domain.menus import Course


@pytest.mark.parametrize(
    ("enum", "values"),
    [
        (Course, ["starter", "main", "side", "dessert", "vegetarian_option"]),
        (WaitingStatus, ["waiting", "offered", "placed", "withdrawn", "expired"]),
        (RequestStatus, ["pending", "approved", "rejected", "withdrawn"]),
        (PaymentMethod, ["card", "direct_debit", "cash", "cheque", "cesu", "transfer"]),
        (
            InvoiceStatus,
            ["issued", "partially_paid", "paid", "debit_scheduled", "cancelled"],
        ),
        (
            PaperKind,
            [
                "attestation_caf",
                "certificat_medical",
                "pai",
                "rib",
                "justificatif_domicile",
                "mandat_sepa",
            ],
        ),
        (
            AnswerState,
            [
                "awaiting",
                "answered",
                "kept",
                "top_bracket",
                "confirmed",
                "declined",
                "enrolled",
                "not_renewed",
            ],
        ),
    ],
)
def test_values_are_the_stored_strings(enum: type[LabelledEnum], values: list[str]) -> None:
    assert [member.value for member in enum] == values
    for member in enum:
        assert enum(member.value) is member
        assert str(member) == member.value
        assert unstructure(member) == member.value
        assert structure(member.value, enum) is member
        assert pickle.loads(pickle.dumps(member)) is member


def test_labels_are_the_french_names() -> None:
    assert Course.MAIN.label == "Plat"
    assert Allergen.PEANUTS.label == "Arachides"
    assert WaitingStatus.OFFERED.label == "place proposée"
    assert RequestStatus.PENDING.label == "En attente d'instruction"
    assert PaperKind.RIB.label == "RIB"
    assert AnswerState.KEPT.label == AnswerState.KEPT.label_fr == "quotient précédent reconduit"
    assert PaymentMethod.CHEQUE.label_fr == "chèque"
    assert InvoiceStatus.DEBIT_SCHEDULED.label_fr == "Prélèvement prévu"


def test_an_unknown_value_is_refused() -> None:
    with pytest.raises(ValueError, match="plat"):
        Course("plat")
