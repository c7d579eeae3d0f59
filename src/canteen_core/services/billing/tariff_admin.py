"""Tariff administration: storing, removing and listing tariff grids."""

from __future__ import annotations

from canteen_core.domain.actors import Actor
from canteen_core.domain.errors import (
    InvalidInputError,
)
from canteen_core.domain.policy import Action
from canteen_core.domain.tariffs import (
    TariffBook,
    TariffGrid,
)
from canteen_core.services.billing._base import BillingBase


class TariffAdministration(BillingBase):
    """The tariff grids of the deployment."""

    # -- tariffs -------------------------------------------------------------------------------

    def save_tariff_grid(self, actor: Actor, grid: TariffGrid) -> TariffGrid:
        """Store a new or changed tariff grid (``manage_tariffs``).

        Refused with :class:`InvalidInputError` when it overlaps another grid of the same
        service in time. Issued invoices never change: they keep the price they were billed at.
        """
        if not isinstance(grid, TariffGrid):
            raise InvalidInputError("expected a TariffGrid", path="grid")
        with self._ctx.use_case(actor, Action.MANAGE_TARIFFS) as tx:
            others = [g for g in tx.uow.tariffs.list(service_id=grid.service_id) if g.id != grid.id]
            TariffBook(grids=(*others, grid))  # raises on an overlap
            before = tx.uow.tariffs.find(grid.id)
            tx.uow.tariffs.save(grid)
            tx.audit.change(f"tariff:{grid.id}", "grid", before, grid)
            tx.audit.describe(f"Enregistrement de la grille tarifaire {grid.id}")
        return grid

    def remove_tariff_grid(self, actor: Actor, grid_id: str) -> None:
        """Delete a tariff grid (``manage_tariffs``); :class:`NotFoundError` if unknown."""
        with self._ctx.use_case(actor, Action.MANAGE_TARIFFS) as tx:
            before = tx.uow.tariffs.get(grid_id)
            tx.uow.tariffs.remove(grid_id)
            tx.audit.change(f"tariff:{grid_id}", "grid", before, None)
            tx.audit.describe(f"Suppression de la grille tarifaire {grid_id}")

    def tariff_grids(self, actor: Actor, *, service_id: str | None = None) -> list[TariffGrid]:
        """The stored grids (of one service), by service and start date (``view_reports``)."""
        with self._ctx.use_case(actor, Action.VIEW_REPORTS, read_only=True) as tx:
            where = {} if service_id is None else {"service_id": service_id}
            grids = list(tx.uow.tariffs.list(**where))
        return sorted(grids, key=lambda g: (g.service_id, g.valid_from))
