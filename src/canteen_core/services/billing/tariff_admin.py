"""Tariff administration: storing, removing and listing tariff grids."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from canteen_core.domain.actors import Actor
from canteen_core.domain.clock import paris_date
from canteen_core.domain.errors import (
    InvalidInputError,
    RuleViolationError,
)
from canteen_core.domain.invoicing import Invoice, InvoiceLine
from canteen_core.domain.policy import Action
from canteen_core.domain.tariffs import (
    TariffBook,
    TariffGrid,
)
from canteen_core.ports.storage import Range, UnitOfWork
from canteen_core.services.billing._base import BillingBase


class BilledGridChangeError(RuleViolationError):
    """A change to a tariff grid would re-price what it already invoiced, unconfirmed
    (``save_tariff_grid(..., reprice_billed=True)`` confirms it), or remove it."""


class TariffAdministration(BillingBase):
    """The tariff grids of the deployment."""

    # -- tariffs -------------------------------------------------------------------------------

    def save_tariff_grid(
        self, actor: Actor, grid: TariffGrid, *, reprice_billed: bool = False
    ) -> TariffGrid:
        """Store a new or changed tariff grid (``manage_tariffs``).

        Refused with :class:`InvalidInputError` when it overlaps another grid of the same
        service in time. Issued invoices never change: they keep the price they were billed at.

        A grid that already priced invoices is a price list families were billed by: replacing
        it with other prices for a category it billed (or a validity that no longer covers a
        billed day) is refused with :class:`BilledGridChangeError` naming an invoice, unless
        ``reprice_billed`` confirms it (a grid typed wrong, corrected): the next post-paid
        run then regularises every such invoice of the last months (credit notes, and the
        days charged again at the new prices). A new price from a date is a new grid from
        that date. Adding a category, or changing one nothing was billed in, needs no
        confirmation.
        """
        if not isinstance(grid, TariffGrid):
            raise InvalidInputError("expected a TariffGrid", path="grid")
        checked: tuple[TariffGrid | None, date] | None = None
        if not reprice_billed:
            # The long read (every invoice the grid priced, maybe) outside the write lock
            # that SQLite's writers take from their first statement.
            with self._ctx.use_case(actor, Action.MANAGE_TARIFFS, read_only=True) as tx:
                read = tx.uow.tariffs.find(grid.id)
                _refuse_repricing(tx.uow, read, grid)
                checked = (read, paris_date(tx.now))
        with self._ctx.use_case(actor, Action.MANAGE_TARIFFS) as tx:
            others = [g for g in tx.uow.tariffs.list(service_id=grid.service_id) if g.id != grid.id]
            TariffBook(grids=(*others, grid))  # raises on an overlap
            before = tx.uow.tariffs.find(grid.id)
            if checked is not None:
                # What the read above could not see: the invoices issued since it began (all
                # of them if the grid itself changed meanwhile).
                read, day = checked
                _refuse_repricing(tx.uow, before, grid, since=day if before == read else None)
            tx.uow.tariffs.save(grid)
            tx.audit.change(f"tariff:{grid.id}", "grid", before, grid)
            tx.audit.describe(f"Enregistrement de la grille tarifaire {grid.id}")
        return grid

    def remove_tariff_grid(self, actor: Actor, grid_id: str) -> None:
        """Delete a tariff grid (``manage_tariffs``); :class:`NotFoundError` if unknown,
        :class:`BilledGridChangeError` if it priced an issued invoice (the next run could
        no longer price the months it billed: end it with ``valid_until`` instead)."""
        with self._ctx.use_case(actor, Action.MANAGE_TARIFFS) as tx:
            before = tx.uow.tariffs.get(grid_id)
            billed = _billed_with(tx.uow, before)
            if billed is not None:
                raise BilledGridChangeError(
                    f"la grille {grid_id} a servi à facturer (facture {billed.number} du "
                    f"{billed.issue_date:%d/%m/%Y}) : elle ne peut pas être supprimée ; "
                    "terminez-la plutôt au dernier jour facturé (valid_until)"
                )
            tx.uow.tariffs.remove(grid_id)
            tx.audit.change(f"tariff:{grid_id}", "grid", before, None)
            tx.audit.describe(f"Suppression de la grille tarifaire {grid_id}")

    def tariff_grids(self, actor: Actor, *, service_id: str | None = None) -> list[TariffGrid]:
        """The stored grids (of one service), by service and start date (``view_reports``)."""
        with self._ctx.use_case(actor, Action.VIEW_REPORTS, read_only=True) as tx:
            where = {} if service_id is None else {"service_id": service_id}
            grids = list(tx.uow.tariffs.list(**where))
        return sorted(grids, key=lambda g: (g.service_id, g.valid_from))


def _refuse_repricing(
    uow: UnitOfWork, before: TariffGrid | None, after: TariffGrid, *, since: date | None = None
) -> None:
    """:class:`BilledGridChangeError` if replacing ``before`` with ``after`` re-prices an
    invoice (issued on or after ``since``, when given)."""
    if before is None or before == after:
        return
    billed = _billed_differently(uow, before, after, since)
    if billed is not None:
        raise BilledGridChangeError(
            f"la grille {after.id} a servi à facturer (facture {billed.number} du "
            f"{billed.issue_date:%d/%m/%Y}) et ce changement en modifie les prix : "
            "la prochaine facturation régulariserait toutes ces factures ; pour un "
            "nouveau tarif, enregistrez une nouvelle grille à partir du premier jour "
            "non facturé ; pour corriger une grille erronée, confirmez la correction "
            "des factures"
        )


def _billed_differently(
    uow: UnitOfWork, before: TariffGrid, after: TariffGrid, since: date | None
) -> Invoice | None:
    """An issued invoice with a line ``before`` priced that ``after`` would price otherwise
    (a category repriced or dropped, or a day it no longer covers), or ``None``."""
    repriced = before.repriced_categories(after)
    uncovers = after.valid_from > before.valid_from or (
        after.valid_until is not None
        and (before.valid_until is None or after.valid_until < before.valid_until)
    )
    if not repriced and not uncovers:
        return None  # nothing billed with ``before`` can change: no need to read invoices
    return _billed_with(
        uow,
        before,
        lambda line: line.category in repriced or not all(after.covers(d) for d in line.days),
        since=since,
    )


def _billed_with(
    uow: UnitOfWork,
    grid: TariffGrid,
    affected: Callable[[InvoiceLine], bool] = lambda _: True,
    *,
    since: date | None = None,
) -> Invoice | None:
    """An issued invoice (on or after ``since``, when given) with an ``affected`` line
    ``grid`` priced, or ``None``."""
    # Invoices are issued after the days they bill: none before the grid's first day.
    first = grid.valid_from if since is None else max(grid.valid_from, since)
    for invoice in uow.invoices.list(issue_date=Range(first, None)):
        if any(line.grid_id == grid.id and affected(line) for line in invoice.lines):
            return invoice
    return None
