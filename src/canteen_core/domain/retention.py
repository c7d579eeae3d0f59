"""How long personal data is kept: the deployment's retention settings and the data categories
canteen holds, with their purpose and retention (what a DPO's processing register says).

``[retention]`` in ``canteen.toml`` (every key optional, in days)::

    [retention]
    inactive_accounts_days = 730          # portal accounts unused for two years
    health_data_days_after_enrollment = 31  # diets and PAI, a month after the last enrollment
    audit_entries_days = 365              # the audit trail's oldest part
    documents_days_after_review = 90      # uploaded certificates once reviewed

Accounting documents (invoices, credit notes, payments, refunds) are not settings: they are
kept ten years (public accounting), whatever happens to the household.
"""

from __future__ import annotations

import attrs

from canteen_core.domain.errors import InvalidInputError

__all__ = ["DataCategory", "RetentionSettings", "data_categories"]


def _days(_: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 36_500:
        raise InvalidInputError(
            "un nombre de jours entre 1 et 36500 est attendu", path=attribute.name
        )


@attrs.frozen(kw_only=True)
class RetentionSettings:
    """``[retention]``: how long each kind of personal data is kept (days); see the module."""

    #: A portal account never used (no login) for this long is removed.
    inactive_accounts_days: int = attrs.field(default=730, validator=_days)
    #: Children's diets and PAI are cleared this long after their last enrollment ended.
    health_data_days_after_enrollment: int = attrs.field(default=31, validator=_days)
    #: Audit entries older than this are cut from the chain (its oldest part).
    audit_entries_days: int = attrs.field(default=365, validator=_days)
    #: Uploaded documents (medical certificates) once reviewed.
    documents_days_after_review: int = attrs.field(default=90, validator=_days)


@attrs.frozen(kw_only=True)
class DataCategory:
    """One category of personal data: what it is, why it is held, how long (French)."""

    key: str
    label: str
    purpose: str
    retention: str
    erasable: bool  # removed by an erasure (else kept for a legal obligation)


def _categories(settings: RetentionSettings) -> tuple[DataCategory, ...]:
    return (
        DataCategory(
            key="household",
            label="Identité et coordonnées du foyer (responsables légaux, enfants)",
            purpose="Inscription au service de restauration et facturation",
            retention="Tant que le foyer utilise le service, puis effacement sur demande",
            erasable=True,
        ),
        DataCategory(
            key="health",
            label="Données de santé des enfants (régimes alimentaires, PAI)",
            purpose="Sécurité alimentaire des enfants (repas adaptés, panier repas PAI)",
            retention=(
                f"{settings.health_data_days_after_enrollment} jours après la fin de la "
                "dernière inscription"
            ),
            erasable=True,
        ),
        DataCategory(
            key="quotients",
            label="Quotients familiaux (revenus)",
            purpose="Calcul du tarif selon les ressources du foyer",
            retention="Tant que le foyer utilise le service",
            erasable=True,
        ),
        DataCategory(
            key="enrollments",
            label="Inscriptions, réservations, demandes et présences",
            purpose="Organisation des repas, commandes au prestataire, facturation",
            retention="Année scolaire en cours, puis effacement sur demande",
            erasable=True,
        ),
        DataCategory(
            key="mandates",
            label="Coordonnées bancaires (mandats de prélèvement SEPA)",
            purpose="Paiement par prélèvement automatique",
            retention="Durée du mandat, puis effacement sur demande",
            erasable=True,
        ),
        DataCategory(
            key="accounts",
            label="Comptes du portail famille",
            purpose="Accès des familles au portail",
            retention=f"Supprimés après {settings.inactive_accounts_days} jours sans connexion",
            erasable=True,
        ),
        DataCategory(
            key="messages",
            label="Courriels envoyés au foyer",
            purpose="Information des familles (factures, reçus, rappels)",
            retention="Effacés avec le foyer",
            erasable=True,
        ),
        DataCategory(
            key="accounting",
            label="Factures, avoirs, paiements et remboursements (avec le nom du payeur)",
            purpose="Comptabilité publique de la régie",
            retention="10 ans (pièces comptables), conservés même après un effacement",
            erasable=False,
        ),
        DataCategory(
            key="audit",
            label="Journal d'audit (qui a modifié quoi, et quand)",
            purpose="Traçabilité des actions des agents et sécurité",
            retention=f"{settings.audit_entries_days} jours",
            erasable=False,
        ),
    )


def data_categories(settings: RetentionSettings | None = None) -> tuple[DataCategory, ...]:
    """The data categories canteen holds, with purpose and retention under ``settings``."""
    return _categories(settings or RetentionSettings())
