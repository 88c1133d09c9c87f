"""Settings from the environment (12-factor): one typed model, read once per process.

``Settings.from_env(env)`` reads every option group (``wastream.config.groups``) and
raises :class:`ConfigError`, one line per bad variable, on a value a group refuses.
``wastream config`` prints the effective settings; the README's tables come from here.
"""

from wastream.config.base import ConfigError, Group
from wastream.config.groups import (
    AgentSettings,
    ConversationSettings,
    DatabaseSettings,
    DevSettings,
    DlqSettings,
    FailureSettings,
    IngressSettings,
    KafkaSettings,
    MetaSettings,
    ObservabilitySettings,
    ProjectorSettings,
    SenderSettings,
    WorkerSettings,
)
from wastream.config.settings import Settings, reveal

__all__ = [
    "AgentSettings",
    "ConfigError",
    "ConversationSettings",
    "DatabaseSettings",
    "DevSettings",
    "DlqSettings",
    "FailureSettings",
    "Group",
    "IngressSettings",
    "KafkaSettings",
    "MetaSettings",
    "ObservabilitySettings",
    "ProjectorSettings",
    "SenderSettings",
    "Settings",
    "WorkerSettings",
    "reveal",
]
