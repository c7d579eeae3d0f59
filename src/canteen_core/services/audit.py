"""``canteen.audit``: reading the audit trail and checking its hash chain (admin).

Who enrolled this child, who changed this family quotient and what it was before::

    for entry in canteen.audit.entries(admin, household_id="h1"):
        print(entry.recorded_at, entry.actor_id, entry.action, entry.changes)
    report = canteen.audit.verify(admin)      # report.intact, report.message()
"""

from __future__ import annotations

from datetime import datetime

from canteen_core.domain.actors import Actor
from canteen_core.domain.audit import AccountAction, AuditEntry, ChainReport, verify_chain
from canteen_core.domain.errors import InvalidInputError
from canteen_core.domain.policy import Action
from canteen_core.services.runner import ServiceBase

__all__ = ["AuditService"]


class AuditService(ServiceBase):
    """The commune's audit trail: queries and the chain check (``view_audit``: admin)."""

    @property
    def commune(self) -> str:
        """The commune whose chain this canteen writes (the issuer's code)."""
        return self._ctx.deployment.issuer.code

    def entries(
        self,
        actor: Actor,
        *,
        household_id: str | None = None,
        actor_id: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[AuditEntry]:
        """The entries matching every filter given, oldest first (``since`` and ``until``
        inclusive, aware instants; ``action``: a policy action or an account's own step,
        ``log_in``...)."""
        if action is not None and action not in {a.value for a in (*Action, *AccountAction)}:
            raise InvalidInputError(f"action inconnue : {action}", path="action")
        for name, value in (("since", since), ("until", until)):
            if value is not None and value.utcoffset() is None:
                raise InvalidInputError("un instant avec son fuseau horaire est attendu", path=name)
        with self._ctx.use_case(actor, Action.VIEW_AUDIT, read_only=True) as tx:
            return list(
                tx.uow.audit.entries(
                    self.commune,
                    household_id=household_id,
                    actor_id=actor_id,
                    action=action,
                    since=since,
                    until=until,
                )
            )

    def verify(self, actor: Actor) -> ChainReport:
        """Check the commune's whole chain; the report names the first broken entry."""
        with self._ctx.use_case(actor, Action.VIEW_AUDIT, read_only=True) as tx:
            return verify_chain(self.commune, tx.uow.audit.entries(self.commune))
