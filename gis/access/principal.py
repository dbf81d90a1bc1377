"""Who is asking: a signed-in user (or the anonymous public, where a deployment allows
it), with their roles, scope and the purpose they stated, and what follows from those."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from ..errors import Forbidden, InvalidInput
from .roles import (
    LOCATED,
    PERSONAL,
    PERSONAL_RESOURCES,
    PERSONAL_WITH_PURPOSE,
    READ,
    ROLE_LABELS,
    WRITE,
    Action,
)

PUBLIC = "public"  # the role of an anonymous request, where layers are declared public


@dataclass(frozen=True)
class Principal:
    """A user as one request sees them.

    ``grid_ids`` is None for a user without a scope (the whole district), else the ids of
    the published grids their scope covers (possibly none). ``client`` and ``route`` say
    where the request came from, for the audit log."""

    name: str
    roles: frozenset[str]
    user_id: int | None = None
    scope: tuple[str, ...] = ()
    grid_ids: frozenset[int] | None = None
    purpose: str | None = None
    public_layers: tuple[str, ...] = ()
    client: str | None = None
    route: str | None = None
    credential: str = "none"  # session, token or none
    csrf: str | None = None  # a session's CSRF token
    expires_at: datetime | None = None  # when the session or token stops being valid
    extra: dict = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def anonymous(cls, public_layers: tuple[str, ...] = ()) -> Principal:
        return cls("anonymous", frozenset({PUBLIC}), public_layers=public_layers)

    @property
    def signed_in(self) -> bool:
        return self.user_id is not None

    @property
    def scoped(self) -> bool:
        return self.grid_ids is not None

    def view(self) -> tuple:
        """Everything about this user that may change what an answer shows them (not who
        they are): roles, public layers, scope and stated purpose. Answers kept for one
        user serve every user of the same view."""
        grids = None if self.grid_ids is None else tuple(sorted(self.grid_ids))
        return (tuple(sorted(self.roles)), self.public_layers, grids,
                tuple(sorted(self.scope)), self.purpose)

    def with_request(self, *, client: str | None, route: str | None,
                     purpose: str | None = None) -> Principal:
        return replace(self, client=client, route=route, purpose=purpose)

    # -- what the roles allow ------------------------------------------------------------

    def may(self, action: Action, resource: str) -> bool:
        if PUBLIC in self.roles:
            return action == "read" and resource in self.public_layers
        table = READ if action == "read" else WRITE
        return any(resource in table.get(role, ()) for role in self.roles)

    def require(self, action: Action, resource: str) -> None:
        if not self.may(action, resource):
            roles = ", ".join(ROLE_LABELS.get(r, (r, r))[1] for r in sorted(self.roles))
            verb = "read" if action == "read" else "change"
            raise Forbidden(f"your roles ({roles}) may not {verb} {resource}",
                            resource=resource)

    def sees_personal(self, resource: str) -> bool:
        """Whether personal fields of ``resource`` are shown unmasked to this request."""
        if any(resource in PERSONAL.get(role, ()) for role in self.roles):
            return True
        return bool(self.purpose) and self.may_state_purpose(resource)

    def may_state_purpose(self, resource: str) -> bool:
        return any(resource in PERSONAL_WITH_PURPOSE.get(role, ()) for role in self.roles)

    def check_purpose(self, resource: str) -> None:
        """A purpose is stated to see personal fields: refuse it where it cannot
        unmask anything, rather than ignore it."""
        if self.purpose is None:
            return
        if not self.purpose.strip():
            raise InvalidInput("purpose is blank: say why you need the personal fields",
                               field="purpose")
        if not self.may_state_purpose(resource) and not self.sees_personal(resource):
            raise Forbidden(f"your roles may not see the personal fields of {resource}, "
                            "whatever the purpose", field="purpose")

    def audited_read(self, resource: str) -> bool:
        """Reads of personal data are audited: resources that hold personal fields, and
        any resource whose personal fields this request sees unmasked."""
        if PUBLIC in self.roles:
            return False
        return resource in PERSONAL_RESOURCES or (
            resource in (*LOCATED, "workers") and self.sees_personal(resource))
