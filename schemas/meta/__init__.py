"""Typed models of Meta's WhatsApp Cloud API webhook payloads, one module per family,
and the parser that flattens a POST body into ``wa.inbound`` events.

Every ``InboundEvent.type`` the parser produces (see each module for details):

=============================================  =========================================
type                                           from
=============================================  =========================================
``message.<type>``                             ``messages[]`` (text, image, audio, video,
                                               document, sticker, location, contacts,
                                               reaction, button, order, system,
                                               unsupported, revoke, edit,
                                               request_welcome) — :mod:`.messages`
``message.interactive.<kind>``                 button_reply, list_reply, nfm_reply,
                                               call_permission_reply, unknown
``message.unknown``                            a message type we do not know
``status.<status>``                            ``statuses[]``: sent, delivered, read,
                                               failed, played, unknown — :mod:`.statuses`
``error``                                      value-level ``errors[]`` of any field —
                                               :mod:`.errors`
``calls.<event>``, ``calls.status.<status>``   the ``calls`` field — :mod:`.calls`
``smb_message_echoes.<type>``                  coexistence echoes — :mod:`.echoes`
``user_preferences.<category>``                marketing opt-out/resume — :mod:`.echoes`
``<field>.<event>`` / ``<field>``              account and template fields, one event
                                               per change (``account_update.partner_added``,
                                               ``message_template_status_update.approved``,
                                               ``template_category_update`` …) —
                                               :mod:`.account`, :mod:`.templates`
``unknown.<field>``                            a field we do not know (payload = the
                                               change's value), or a split field's change
                                               with nothing we recognise or with keys we
                                               don't split (payload = the whole value)
=============================================  =========================================

Consumers: test ``type.startswith("message.")`` (with the dot): the template fields
(``message_template_…``) are not user messages.

event_id: the wamid for a message, ``<wamid>:<status>`` for a status (plus
``:<participant>`` for group recipients), a content hash (``sha256:…``) otherwise.
"""

from schemas.meta.common import InvalidJson, MetaPayloadError
from schemas.meta.parser import parse_body, parse_bytes

__all__ = ["InvalidJson", "MetaPayloadError", "parse_body", "parse_bytes"]
