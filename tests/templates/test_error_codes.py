"""Meta's template and window error codes, each mapped to its class and its
transient/permanent flag (https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes)."""

from __future__ import annotations

import pytest

from streams.failure import errors as e

CODES = [
    (131047, e.GraphOutsideWindow, False),  # re-engagement: needs a template (sender falls back)
    (131026, e.GraphUndeliverable, False),
    (131051, e.GraphUnsupportedType, False),
    (131008, e.GraphInvalidParameter, False),
    (131009, e.GraphInvalidParameter, False),
    (131021, e.GraphRecipientRefused, False),
    (131049, e.GraphRecipientRefused, False),
    (131050, e.GraphRecipientRefused, False),
    (131005, e.GraphAuthError, False),
    (131031, e.GraphAuthError, False),
    (131042, e.GraphAuthError, False),
    (368, e.GraphAuthError, False),
    (131048, e.GraphRateLimited, True),
    (131057, e.GraphTransient, True),
    (132000, e.GraphTemplateInvalid, False),
    (132001, e.GraphTemplateUnavailable, False),
    (132005, e.GraphTemplateInvalid, False),
    (132007, e.GraphTemplateInvalid, False),
    (132012, e.GraphTemplateInvalid, False),
    (132015, e.GraphTemplateUnavailable, False),
    (132016, e.GraphTemplateUnavailable, False),
    (132068, e.GraphPermanent, False),
    (132069, e.GraphRateLimited, True),
    (133010, e.GraphUndeliverable, False),
]


@pytest.mark.parametrize(("code", "cls", "transient"), CODES, ids=[str(c[0]) for c in CODES])
def test_each_code_has_its_class(code: int, cls: type, transient: bool) -> None:
    err = e.graph_error(400, {"error": {"message": "m", "code": code}})
    assert type(err) is cls
    assert e.is_transient(err) is transient
    assert err.as_dict()["code"] == code
    assert e.META_ERROR_CODES[code].meaning  # named in the one registry


def test_every_documented_template_code_is_registered() -> None:
    documented = {132000, 132001, 132005, 132007, 132012, 132015, 132016}
    assert documented <= set(e.META_ERROR_CODES)
    assert all(not e.META_ERROR_CODES[c].cls.transient for c in documented)
