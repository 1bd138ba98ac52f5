"""Opaque cursors (``core.pagination``): the feed writes a cursor per entry with
:func:`cursors_after`, which must write exactly what :func:`encode_cursor` writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from registry.core.pagination import cursors_after, decode_cursor, encode_cursor

scalars = st.text(st.characters(exclude_categories=("Cs",)), max_size=30) | st.integers()


@given(leading=st.lists(scalars, max_size=3), last=st.integers())
def test_cursors_after_writes_what_encode_cursor_writes(leading, last):
    assert cursors_after(*leading)(last) == encode_cursor(*leading, last)


def test_a_feed_cursor_reads_back():
    written = cursors_after("861d4574cad48d46")(2_006_548)
    assert decode_cursor(written, str, int) == ("861d4574cad48d46", 2_006_548)
