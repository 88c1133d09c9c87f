"""Message templates: what a domain declares for its notifications outside Meta's
24-hour window, and the check of Meta's rules (``wastream templates check``).

Each domain names its templates next to its texts (``streams/domains/<name>/templates.py``,
``Domain.templates``); a notification uses one through :meth:`Template.ref`, which
refuses a wrong number of parameters or buttons. Rules:
https://developers.facebook.com/docs/whatsapp/business-management-api/message-templates
(body ≤ 1024 characters, parameters ``{{1}}``, ``{{2}}``… in order with an example
each, none at the body's start or end, quick-reply text ≤ 25 characters; the name
lower case, digits and underscores).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from streams.engine.messages import TEMPLATE_LANGS, TemplateRef

LANGS = tuple(TEMPLATE_LANGS)  # every template in every catalog language
MAX_BODY = 1024
MAX_BUTTON_TEXT = 25
MAX_QUICK_REPLIES = 3  # Meta allows 10; our interactive versions have at most 3
_NAME = re.compile(r"^[a-z0-9_]{1,512}$")
_PARAM = re.compile(r"\{\{\s*([^}]*?)\s*\}\}")


@dataclass(frozen=True, slots=True)
class Template:
    """One template in every language: ``bodies`` and ``buttons`` (quick-reply texts)
    by catalog language, ``examples``: one value for each numbered parameter."""

    name: str
    bodies: Mapping[str, str]
    examples: tuple[str, ...] = ()
    buttons: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    category: str = "UTILITY"

    @property
    def button_count(self) -> int:
        return len(self.buttons.get("en", ()))

    def ref(self, *params: object, buttons: tuple[str, ...] = ()) -> TemplateRef:
        """The reference a reply carries; ``buttons``: the payloads, in order."""
        if len(params) != len(self.examples) or len(buttons) != self.button_count:
            raise ValueError(f"template {self.name}: {len(self.examples)} parameters and "
                             f"{self.button_count} buttons, given {len(params)} and "
                             f"{len(buttons)}")
        return TemplateRef(self.name, tuple(str(p) for p in params), buttons)


def problems(template: Template) -> list[str]:
    """What Meta would refuse in ``template`` (empty: none)."""
    name, found = template.name, list[str]()
    if not _NAME.match(name):
        found.append(f"{name}: the name must be lower case letters, digits and _")
    if template.category not in ("UTILITY", "MARKETING", "AUTHENTICATION"):
        found.append(f"{name}: unknown category {template.category}")
    if any(not e.strip() for e in template.examples):
        found.append(f"{name}: an example is empty")
    for lang in LANGS:
        body = template.bodies.get(lang)
        if not body:
            found.append(f"{name}/{lang}: no body")
            continue
        found.extend(f"{name}/{lang}: {p}" for p in _body_problems(body, len(template.examples)))
        texts = template.buttons.get(lang, ())
        if len(texts) != template.button_count:
            found.append(f"{name}/{lang}: {len(texts)} buttons, en has {template.button_count}")
        if len(texts) > MAX_QUICK_REPLIES:
            found.append(f"{name}/{lang}: more than {MAX_QUICK_REPLIES} quick replies")
        found.extend(f"{name}/{lang}: button {t!r} is empty or over {MAX_BUTTON_TEXT} chars"
                     for t in texts if not 0 < len(t) <= MAX_BUTTON_TEXT)
    return found


def _body_problems(body: str, examples: int) -> list[str]:
    found = []
    if len(body) > MAX_BODY:
        found.append(f"the body has {len(body)} characters (at most {MAX_BODY})")
    params = _PARAM.findall(body)
    if params != [str(i) for i in range(1, len(params) + 1)]:
        found.append(f"parameters {params} are not {{{{1}}}}, {{{{2}}}}… in order")
    if len(params) != examples:
        found.append(f"{len(params)} parameters but {examples} examples")
    stripped = body.strip()
    if _PARAM.match(stripped) or stripped.endswith("}}"):
        found.append("a parameter at the start or the end of the body")
    if "{" in _PARAM.sub("", body) or "}" in _PARAM.sub("", body):
        found.append("a stray brace (a {name} placeholder left over?)")
    return found


def check(templates: Iterable[Template]) -> list[str]:
    """Every problem of a catalog, duplicate names included."""
    found, names = list[str](), set[str]()
    for template in templates:
        if template.name in names:
            found.append(f"{template.name}: declared twice")
        names.add(template.name)
        found.extend(problems(template))
    return found


#: The engine's own template: the apology after a dead letter (``wastream.recovery``),
#: which may reach a user whose window has closed since (a redrive days later).
RECOVERY = Template(
    name="service_recovery",
    bodies={
        "en": "Sorry, something went wrong on our side with your last message. Reply to "
              "this message to start again from the menu.",
        "fr": "Désolé, un problème de notre côté a touché votre dernier message. Répondez "
              "à ce message pour recommencer depuis le menu.",
        "rw": "Tubabarira, habaye ikibazo ku ruhande rwacu ku butumwa bwanyu buheruka. "
              "Subiza ubu butumwa kugira ngo mutangire bundi bushya kuri menu.",
    },
)
ENGINE_TEMPLATES = (RECOVERY,)


def body_example(template: Template, lang: str) -> str:
    """The body with its examples in place (what Meta shows its reviewers)."""
    text = template.bodies[lang]
    for i, value in enumerate(template.examples, 1):
        text = text.replace(f"{{{{{i}}}}}", value)
    return text


def meta_definition(template: Template, lang: str) -> dict[str, Any]:
    """Meta's create request for ``template`` in ``lang`` (a catalog language):
    ``POST /{waba-id}/message_templates`` (name, category, language, components with
    the body's examples and the quick-reply buttons)."""
    body: dict[str, Any] = {"type": "BODY", "text": template.bodies[lang]}
    if template.examples:
        body["example"] = {"body_text": [list(template.examples)]}
    components: list[dict[str, Any]] = [body]
    if template.buttons.get(lang):
        components.append({"type": "BUTTONS", "buttons": [
            {"type": "QUICK_REPLY", "text": text} for text in template.buttons[lang]]})
    return {"name": template.name, "category": template.category,
            "language": TEMPLATE_LANGS.get(lang, lang), "components": components}
