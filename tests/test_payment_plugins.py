"""The payment adapters are plugins: found by name through the provider hook."""

from __future__ import annotations

import importlib

import pytest

from canteen_core.config.plugins import AdapterKind, PaymentProviderBackend, build_plugin_manager
from canteen_core.domain.errors import ConfigurationError
from canteen_core.ports.online_payment import PaymentProvider

PAYMENT_MODULES = (
    "canteen_adapters.payment.payzen",
    "canteen_adapters.payment.payfip",
    "canteen_adapters.payment.sepa",
    "canteen_adapters.payment.manual",
)

SETTINGS = {
    "payzen": {"site_id": "12345678", "mode": "TEST", "test_key": "k3y-for-tests"},
    "payfip": {"numcli": "012345", "saisie": "T"},
    "sepa": {
        "creditor_name": "Régie cantine",
        "creditor_iban": "FR7630004000031234567890143",
        "creditor_id": "FR72ZZZ123456",
    },
    "manual": {"accepted_methods": ["cash", "cheque"]},
}


def _payment_plugins() -> list[object]:
    return [importlib.import_module(name) for name in PAYMENT_MODULES]


def test_every_payment_adapter_is_offered_by_name() -> None:
    pm = build_plugin_manager(load_entrypoints=False, built_ins=False, plugins=_payment_plugins())
    assert set(pm.adapters(AdapterKind.PAYMENT_PROVIDER)) == set(SETTINGS)
    for name, settings in SETTINGS.items():
        record = pm.adapter(AdapterKind.PAYMENT_PROVIDER, name)
        assert isinstance(record, PaymentProviderBackend)
        provider = record.factory(settings)
        assert provider.name == name
    online = [
        pm.adapter(AdapterKind.PAYMENT_PROVIDER, name).factory(SETTINGS[name])  # type: ignore[attr-defined]
        for name in ("payzen", "payfip")
    ]
    assert all(isinstance(provider, PaymentProvider) for provider in online)


def test_unknown_provider_lists_the_valid_names() -> None:
    pm = build_plugin_manager(load_entrypoints=False, built_ins=False, plugins=_payment_plugins())
    with pytest.raises(ConfigurationError, match="manual, payfip, payzen, sepa"):
        pm.adapter(AdapterKind.PAYMENT_PROVIDER, "stripe")
