"""Account-level webhook fields: one update per change, payload = the change's ``value``.

References: https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
(and the phone_number_*, business_*, security references beside it).

Event types: ``<field>.<event>`` with Meta's ``value.event`` lower-cased when there is
one (``account_update.account_deleted``, ``account_update.partner_added``,
``account_update.disabled_update`` …), else ``<field>``. Key: the phone number id
when the value names one, else the WABA id (``entry[].id``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from schemas.meta.common import ident, token

ACCOUNT_FIELDS = frozenset({
    "account_update",
    "account_alerts",
    "account_review_update",
    "account_settings_update",
    "business_capability_update",
    "business_status_update",
    "phone_number_name_update",
    "phone_number_quality_update",
    "security",
    "partner_solutions",
    "payment_configuration_update",
    "automatic_events",
    "history",
    "smb_app_state_sync",
    "flows",
})


@dataclass(frozen=True, slots=True)
class AccountUpdate:
    """A typed view of an ``account_update`` value; ``raw`` is verbatim."""

    event: str | None
    phone_number: str | None
    raw: dict[str, Any]

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> AccountUpdate:
        ev = d.get("event")
        return cls(event=ev if isinstance(ev, str) else None,
                   phone_number=ident(d.get("phone_number")), raw=d)


def whole_value_type(field: str, value: dict[str, Any]) -> str:
    """``<field>.<event>`` when the value carries a usable ``event``, else ``<field>``."""
    ev = token(value.get("event"))
    return f"{field}.{ev}" if ev else field
