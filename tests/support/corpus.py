# ruff: noqa: E501 - the expectation table reads best one body per line
"""The Meta webhook corpus (tests/data/whatsapp) and what each body must become.

``EXPECTED_TYPES`` was reviewed by hand against Meta's reference (one list per body,
in body order). :func:`oracle` restates the contract of the envelope (payload verbatim,
event id, key) independently of the parser, in the simplest possible way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

CORPUS_DIR = Path(__file__).resolve().parents[1] / "data" / "whatsapp"


def bodies() -> list[tuple[str, bytes]]:
    """(file name, raw bytes) of every corpus body, sorted by name."""
    return [(p.name, p.read_bytes()) for p in sorted(CORPUS_DIR.glob("*.json"))]


@dataclass(frozen=True)
class Expected:
    payload: dict[str, Any]
    event_id: str | None  # None: a content hash (checked for shape and stability only)
    key: str


def oracle(raw: bytes) -> list[Expected]:
    """What the contract says each update of ``raw`` must become, in body order."""
    body = orjson.loads(raw)
    out: list[Expected] = []
    for entry in body["entry"]:
        for change in entry["changes"]:
            field, value = change["field"], change["value"]
            pnid = (value.get("metadata") or {}).get("phone_number_id")
            fallback = pnid or entry["id"]
            if field == "messages":
                for k in value:
                    if k == "messages":
                        out += [Expected(m, m["id"], m["from"]) for m in value[k]]
                    elif k == "statuses":
                        for s in value[k]:
                            eid = f"{s['id']}:{s['status']}"
                            if s.get("recipient_type") == "group":
                                eid += f":{s['recipient_participant_id']}"
                            out.append(Expected(s, eid, s["recipient_id"]))
                    elif k == "errors":
                        out += [Expected(e, None, fallback) for e in value[k]]
            elif field == "calls":
                for k in value:
                    if k == "calls":
                        out += [Expected(c, None, c["to"] if c["direction"] == "BUSINESS_INITIATED"
                                         else c["from"]) for c in value[k]]
                    elif k == "statuses":
                        out += [Expected(s, None, s["recipient_id"]) for s in value[k]]
                    elif k == "errors":
                        out += [Expected(e, None, fallback) for e in value[k]]
            elif field == "smb_message_echoes":
                out += [Expected(e, None, e["to"]) for e in value["message_echoes"]]
            elif field == "user_preferences":
                out += [Expected(p, None, p["wa_id"]) for p in value["user_preferences"]]
            else:
                out.append(Expected(value, None, fallback))
    return out


EXPECTED_TYPES: dict[str, list[str]] = {
    "account_update__account_deleted__pywa.json": ['account_update.account_deleted'],
    "account_update__account_disabled__pywa.json": ['account_update.disabled_update'],
    "account_update__account_offboarded__pywa.json": ['account_update.account_offboarded'],
    "account_update__account_reconnected__pywa.json": ['account_update.account_reconnected'],
    "account_update__account_restriction__pywa.json": ['account_update.account_restriction'],
    "account_update__account_violation__pywa.json": ['account_update.account_violation'],
    "account_update__ad_account_linked__pywa.json": ['account_update.ad_account_linked'],
    "account_update__authentication_international_eligibility__pywa.json": ['account_update.auth_intl_price_eligibility_update'],
    "account_update__mm_api_for_wa_terms_of_service__pywa.json": ['account_update.mm_lite_terms_signed'],
    "account_update__partner_added__pywa.json": ['account_update.partner_added'],
    "account_update__partner_app_installed__pywa.json": ['account_update.partner_app_installed'],
    "account_update__partner_app_uninstalled__pywa.json": ['account_update.partner_app_uninstalled'],
    "account_update__partner_led_business_verification_status__pywa.json": ['account_update.partner_client_certification_status_update'],
    "account_update__partner_removed__pywa.json": ['account_update.partner_removed'],
    "account_update__partner_removed_wa_app_disconnection__pywa.json": ['account_update.partner_removed'],
    "account_update__pricing_tiering_update__pywa.json": ['account_update.volume_based_pricing_tier_update'],
    "account_update__primary_business_location_set__pywa.json": ['account_update.business_primary_location_country_update'],
    "calls_connect__business_initiated__pywa.json": ['calls.connect'],
    "calls_connect__user_initiated__pywa.json": ['calls.connect'],
    "calls_status__call_status__pywa.json": ['calls.status.ringing'],
    "calls_terminate__call_terminate__pywa.json": ['calls.terminate', 'error'],
    "errors_value_level_130429__meta.json": ['error'],
    "msg__animated_sticker__pywa.json": ['message.sticker'],
    "msg__audio__pywa.json": ['message.audio'],
    "msg__chosen_location__pywa.json": ['message.location'],
    "msg__contacts__pywa.json": ['message.contacts'],
    "msg__current_location__pywa.json": ['message.location'],
    "msg__document__pywa.json": ['message.document'],
    "msg__forwarded__pywa.json": ['message.text'],
    "msg__forwarded_many_times__pywa.json": ['message.text'],
    "msg__image__pywa.json": ['message.image'],
    "msg__interactive_message_with_err__pywa.json": ['message.interactive.unknown', 'error'],
    "msg__media_with_url__pywa.json": ['message.image'],
    "msg__order__pywa.json": ['message.order'],
    "msg__reaction__pywa.json": ['message.reaction'],
    "msg__referral__pywa.json": ['message.text'],
    "msg__reply__pywa.json": ['message.text'],
    "msg__static_sticker__pywa.json": ['message.sticker'],
    "msg__text__pywa.json": ['message.text'],
    "msg__unreaction_empty__pywa.json": ['message.reaction'],
    "msg__unreaction_no_emoji__pywa.json": ['message.reaction'],
    "msg__unsupported__pywa.json": ['message.unsupported'],
    "msg__unsupported_with_type__pywa.json": ['message.unsupported'],
    "msg__video__pywa.json": ['message.video'],
    "msg__voice__pywa.json": ['message.audio'],
    "msg_call_permission__accept__pywa.json": ['message.interactive.call_permission_reply'],
    "msg_call_permission__reject__pywa.json": ['message.interactive.call_permission_reply'],
    "msg_deleted__revoke__pywa.json": ['message.revoke'],
    "msg_edited__image__pywa.json": ['message.edit'],
    "msg_image__meta.json": ['message.image'],
    "msg_interactive_button__button__pywa.json": ['message.interactive.button_reply'],
    "msg_interactive_button__quick_reply__pywa.json": ['message.button'],
    "msg_interactive_button__quick_reply_without_context__pywa.json": ['message.button'],
    "msg_interactive_button_reply__meta.json": ['message.interactive.button_reply'],
    "msg_interactive_list__callback__pywa.json": ['message.interactive.list_reply'],
    "msg_interactive_list__description__pywa.json": ['message.interactive.list_reply'],
    "msg_interactive_list_reply__meta.json": ['message.interactive.list_reply'],
    "msg_interactive_nfm__completion__pywa.json": ['message.interactive.nfm_reply'],
    "msg_interactive_nfm__without_flow_token__pywa.json": ['message.interactive.nfm_reply'],
    "msg_location__meta.json": ['message.location'],
    "msg_system__identity_change__pywa.json": ['message.system'],
    "msg_system__phone_number_change__pywa.json": ['message.system'],
    "msg_system_user_changed_number__meta.json": ['message.system'],
    "msg_text__meta.json": ['message.text'],
    "msg_text_ctwa_referral__meta.json": ['message.text'],
    "msg_text_dashboard_test_sample__captured.json": ['message.text'],
    "msg_text_referred_product__meta.json": ['message.text'],
    "msg_unsupported__meta.json": ['message.unsupported'],
    "smb_echo__delete__pywa.json": ['smb_message_echoes.revoke'],
    "smb_echo__edit__pywa.json": ['smb_message_echoes.edit'],
    "smb_echo__text__pywa.json": ['smb_message_echoes.text'],
    "status__delivered__pywa.json": ['status.delivered'],
    "status__failed__pywa.json": ['status.failed'],
    "status__group__pywa.json": ['status.read'],
    "status__played__pywa.json": ['status.played'],
    "status__read__pywa.json": ['status.read'],
    "status__sent__pywa.json": ['status.sent'],
    "status__with_tracker__pywa.json": ['status.sent'],
    "status_delivered__meta.json": ['status.delivered'],
    "status_failed_131049__meta.json": ['status.failed'],
    "status_sent_pmp_marketing__meta.json": ['status.sent'],
    "status_v24_minimal_no_conversation_no_pricing__meta.json": ['status.sent'],
    "template_category_update__marketing__pywa.json": ['template_category_update'],
    "template_components_update__element__pywa.json": ['message_template_components_update'],
    "template_quality_update__yellow__pywa.json": ['message_template_quality_update'],
    "template_status_update__approved__pywa.json": ['message_template_status_update.approved'],
    "template_status_update__rejected__pywa.json": ['message_template_status_update.rejected'],
    "user_preferences__resume__pywa.json": ['user_preferences.marketing_messages'],
    "user_preferences__signup__pywa.json": ['user_preferences.marketing_messages'],
}
