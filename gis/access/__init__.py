"""Who may see and change what: roles (:mod:`.roles`), the user a request stands for
(:mod:`.principal`), masking (:mod:`.masking`), accounts and sign-in (:mod:`.accounts`)
and the audit log (:mod:`.audit`)."""

from .principal import Principal
from .roles import ROLES

__all__ = ["ROLES", "Principal"]
