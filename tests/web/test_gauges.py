"""The home page's quota bars in a real browser: a small share still shows as a bar."""

from __future__ import annotations

import pytest

from registry.ladder import operations as ops
from tests.factories import TEST_ACTOR

pytestmark = pytest.mark.browser


def _find(node: dict, wanted) -> dict | None:
    if wanted(node):
        return node
    for child in node.get("children", []) + node.get("shadowRoots", []):
        found = _find(child, wanted)
        if found is not None:
            return found
    return None


def filled_width(page, gauge_id: str) -> float:
    """The drawn width of a meter's filled part, in CSS pixels.

    The filled part lives in the browser's own shadow tree, out of reach of scripts and
    locators; the DevTools protocol walks into it."""
    cdp = page.context.new_cdp_session(page)
    root = cdp.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]

    def attributes(node: dict) -> dict:
        raw = node.get("attributes", [])
        return dict(zip(raw[::2], raw[1::2], strict=True))

    meter = _find(
        root, lambda n: n.get("nodeName") == "METER" and attributes(n).get("id") == gauge_id
    )
    assert meter is not None, gauge_id
    value = _find(meter, lambda n: attributes(n).get("pseudo", "").endswith("-value"))
    assert value is not None
    return cdp.send("DOM.getBoxModel", {"nodeId": value["nodeId"]})["model"]["width"]


def test_a_share_under_five_percent_is_still_a_visible_bar(new_page, session, make):
    # One holder of 5,000 places: 0.02 % of the quota, a fraction of a pixel at that share.
    ops.grant_tier(session, make.enterprise(), "tech_sme", actor=TEST_ACTOR, reason="x")
    session.commit()
    for width in (1280, 375):
        page = new_page(width=width)
        page.goto("/")
        assert filled_width(page, "gauge-tech_sme") >= 6
        # An empty rung stays an empty track.
        assert filled_width(page, "gauge-high_tech") == 0
