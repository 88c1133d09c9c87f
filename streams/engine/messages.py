"""Graph API message bodies (the exact JSON POSTed to ``/{phone_number_id}/messages``).

Reference: https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-list-messages
(lists: ≤10 rows in total, row title ≤24, description ≤72, button ≤20) and
https://developers.facebook.com/docs/whatsapp/cloud-api/messages/interactive-reply-buttons-messages
(≤3 buttons, title ≤20). Builders truncate defensively, and the catalog unit tests
check that no prompt of ours needs truncating.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

MAX_ROWS = 10
MAX_ROW_TITLE = 24
MAX_ROW_DESC = 72
MAX_BUTTONS = 3
MAX_BUTTON_TITLE = 20
MAX_LIST_BUTTON = 20
MAX_BODY = 1024
MAX_CAPTION = 1024

# A media object of the store where Meta expects a media id: the sender uploads it and
# puts Meta's id in its place (streams/media/outbound.py, decision 0016). With
# IF_STORED set, an object the store does not (yet) hold skips that one message.
STORED_MEDIA = "wastream_media"
IF_STORED = "wastream_if_stored"


@dataclass(frozen=True, slots=True)
class Option:
    """One choice offered to the user: a list row or a reply button."""

    id: str
    title: str
    description: str = ""


def _clip(s: str, n: int) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _base(to: str) -> dict[str, Any]:
    return {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}


def text_body(to: str, body: str) -> dict[str, Any]:
    """A plain text message."""
    return {**_base(to), "type": "text", "text": {"preview_url": False, "body": body}}


def list_body(
    to: str,
    body: str,
    button: str,
    options: list[Option],
    *,
    header: str | None = None,
    section: str = "Options",
) -> dict[str, Any]:
    """An interactive list message with one section."""
    rows = []
    for opt in options[:MAX_ROWS]:
        row: dict[str, str] = {"id": opt.id, "title": _clip(opt.title, MAX_ROW_TITLE)}
        if opt.description:
            row["description"] = _clip(opt.description, MAX_ROW_DESC)
        rows.append(row)
    interactive: dict[str, Any] = {
        "type": "list",
        "body": {"text": _clip(body, MAX_BODY)},
        "action": {
            "button": _clip(button, MAX_LIST_BUTTON),
            "sections": [{"title": _clip(section, MAX_ROW_TITLE), "rows": rows}],
        },
    }
    if header:
        interactive["header"] = {"type": "text", "text": _clip(header, 60)}
    return {**_base(to), "type": "interactive", "interactive": interactive}


def buttons_body(to: str, body: str, options: list[Option]) -> dict[str, Any]:
    """An interactive reply-buttons message."""
    buttons = [
        {"type": "reply", "reply": {"id": o.id, "title": _clip(o.title, MAX_BUTTON_TITLE)}}
        for o in options[:MAX_BUTTONS]
    ]
    return {
        **_base(to),
        "type": "interactive",
        "interactive": {
            "type": "button",
            "body": {"text": _clip(body, MAX_BODY)},
            "action": {"buttons": buttons},
        },
    }


def image_body(to: str, media_id: str, caption: str = "") -> dict[str, Any]:
    """An image message of media already uploaded (a media id a user sent us)."""
    image: dict[str, Any] = {"id": media_id}
    if caption:
        image["caption"] = _clip(caption, MAX_BODY)
    return {**_base(to), "type": "image", "image": image}


def stored_image_body(to: str, key: str, caption: str = "",
                      if_stored: bool = False) -> dict[str, Any]:
    """An image message of an object of the media store (``key``: its sha256 hex).
    ``if_stored``: when the store does not hold it at send time, the sender skips this
    message (recorded ``failed``, class ``MediaNotStored``) instead of dead-lettering it,
    so the replies around it still go."""
    image: dict[str, Any] = {STORED_MEDIA: key}
    if caption:
        image["caption"] = _clip(caption, MAX_CAPTION)
    if if_stored:
        image[IF_STORED] = True
    return {**_base(to), "type": "image", "image": image}


def location_request_body(to: str, body: str) -> dict[str, Any]:
    """An interactive location request message (the user taps "Send location")."""
    return {
        **_base(to),
        "type": "interactive",
        "interactive": {
            "type": "location_request_message",
            "body": {"text": _clip(body, MAX_BODY)},
            "action": {"name": "send_location"},
        },
    }


# -- templates: what stands in for a reply outside Meta's 24-hour window -----------------
# https://developers.facebook.com/docs/whatsapp/cloud-api/guides/send-message-templates

#: The key of a reply body that holds its template version; the conversation agent
#: takes it out before the body is sent (``streams.engine.window.choose``).
TEMPLATE = "wastream_template"

#: Catalog language → Meta's language code of the template.
TEMPLATE_LANGS = {"en": "en", "fr": "fr", "rw": "rw_RW"}


@dataclass(frozen=True, slots=True)
class TemplateRef:
    """The approved template standing in for a reply: its ``name`` (in the domain's
    template catalog), the values of its body's ``{{1}}``, ``{{2}}``… in order, and the
    payloads of its quick-reply buttons, in order: the ids of the interactive version's
    buttons, so a tap comes back as the same choice (a ``button`` message's payload)."""

    name: str
    params: tuple[str, ...] = ()
    buttons: tuple[str, ...] = ()


def _param(value: str) -> str:
    # Meta refuses a parameter with a newline, a tab or more than 4 spaces in a row,
    # and an empty one.
    return " ".join(str(value).split()) or "-"


def template_body(to: str, ref: TemplateRef, lang: str) -> dict[str, Any]:
    """A template message: ``ref``'s template in ``lang`` (a catalog language)."""
    components: list[dict[str, Any]] = []
    if ref.params:
        components.append({"type": "body", "parameters": [
            {"type": "text", "text": _param(p)} for p in ref.params]})
    for i, payload in enumerate(ref.buttons):
        components.append({"type": "button", "sub_type": "quick_reply", "index": str(i),
                           "parameters": [{"type": "payload", "payload": payload}]})
    template: dict[str, Any] = {"name": ref.name,
                                "language": {"code": TEMPLATE_LANGS.get(lang, lang)}}
    if components:
        template["components"] = components
    return {**_base(to), "type": "template", "template": template}


def templated(body: dict[str, Any], ref: TemplateRef, lang: str) -> dict[str, Any]:
    """``body`` (a reply) with the template that stands in for it when its recipient's
    window is closed."""
    return {**body, TEMPLATE: template_body(str(body["to"]), ref, lang)}
