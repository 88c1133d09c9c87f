"""wastream: WhatsApp webhooks as an event log, conversations as stream processors."""

__version__ = "0.1.0"
