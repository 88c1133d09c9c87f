"""Every read model by name (the names ``wastream replay --projection`` accepts)."""

from __future__ import annotations

from projections.agent_sessions import AgentSessionsProjection
from projections.base import Projection
from projections.broker_requests import BrokerRequestsProjection
from projections.chat_state import ChatStateProjection
from projections.dead_letters import DeadLettersProjection
from projections.domain_events import DomainEventsProjection
from projections.events import EventsProjection
from projections.interactions import InteractionsProjection
from projections.jobs import JobsProjection
from projections.media import MediaProjection
from projections.outbound import OutboundProjection
from projections.produce_listings import ProduceListingsProjection
from projections.produce_matches import ProduceMatchesProjection
from projections.recovery import RecoveryProjection
from projections.rentals import RentalsProjection
from projections.retries import RetriesProjection
from projections.templates import MessageTemplatesProjection
from projections.vendors import VendorsProjection
from projections.webhook_logs import WebhookLogsProjection
from wastream.config import Settings


def all_projections(settings: Settings) -> list[Projection]:
    """A fresh instance of every projection, in a fixed order."""
    return [EventsProjection(), WebhookLogsProjection(), ChatStateProjection(),
            InteractionsProjection(),
            AgentSessionsProjection(frozenset(settings.projector.agent_flows)),
            OutboundProjection(),
            DeadLettersProjection(max_retries=len(settings.failure.retry_delays)),
            RecoveryProjection(), DomainEventsProjection(), JobsProjection(),
            RentalsProjection(), VendorsProjection(), BrokerRequestsProjection(),
            ProduceListingsProjection(), ProduceMatchesProjection(), MediaProjection(),
            MessageTemplatesProjection(), RetriesProjection(settings.failure.retry_delays)]


def by_name(settings: Settings, names: list[str] | None = None) -> list[Projection]:
    """The projections named (all when ``names`` is None); KeyError on an unknown name."""
    every = {p.name: p for p in all_projections(settings)}
    if names is None:
        return list(every.values())
    return [every[n] for n in names]
