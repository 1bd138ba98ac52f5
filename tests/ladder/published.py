"""Reading a published list page in the tests: the holders it lists and its pager."""

from __future__ import annotations

import re

from registry.ladder import operations as ops
from tests.factories import TEST_ACTOR

USCC_CELL = re.compile(
    r'<td data-label="[^"]*"><span class="code" translate="no">([0-9A-Z]{18})</span></td>'
)
NEXT_LINK = re.compile(r'<a class="pager__link" href="([^"]+)" rel="next">')
PREVIOUS_LINK = re.compile(r'<a class="pager__link" href="([^"]+)" rel="prev">')


def grant(session, enterprise, code="tech_sme"):
    """``enterprise`` put on ``code``'s rung."""
    ops.grant_tier(session, enterprise, code, actor=TEST_ACTOR, reason="x")


def listed(html: str) -> list[str]:
    """The USCCs a published list page shows, in order."""
    return USCC_CELL.findall(html)
