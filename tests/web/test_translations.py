"""The 简体中文 catalogue is complete, consistent and compiled (PRODUCT.md "Operation")."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from tests.web.usability import language_faults, reading_text
from translations.keywords import extract_keywords

ROOT = Path(__file__).resolve().parents[2]
CATALOGUE = ROOT / "translations" / "zh" / "LC_MESSAGES"


@pytest.fixture(scope="module")
def catalogue():
    with open(CATALOGUE / "messages.po", "rb") as po:
        return read_po(po, locale="zh")


def _singular(message_id) -> str:
    """A plural entry's id is (singular, plural); the source lists its singular."""
    return message_id if isinstance(message_id, str) else message_id[0]


def _key(value):
    return value if isinstance(value, str) else tuple(value)


def _source_messages() -> set[str]:
    with open(ROOT / "babel.cfg", encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, **extract_keywords()}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        ROOT, method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_in_the_code_is_translated(catalogue):
    # A plural entry is translated when each of its forms is.
    translated = {
        _singular(m.id)
        for m in catalogue
        if m.id and m.string and all(_key(m.string)) and not m.fuzzy
    }
    missing = sorted(_source_messages() - translated)
    assert missing == [], "extract, update and translate (see babel.cfg)"


def test_translations_keep_their_placeholders(catalogue):
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check() if errors]
    assert problems == []


def test_compiled_catalogue_matches_the_source(catalogue):
    with open(CATALOGUE / "messages.mo", "rb") as mo:
        compiled = {_key(m.id): _key(m.string) for m in read_mo(mo) if m.id}
    source = {_key(m.id): _key(m.string) for m in catalogue if m.id and not m.fuzzy}
    assert compiled == source, "run: pybabel compile -d translations"


def test_each_message_speaks_one_language(catalogue):
    """U1 over the catalogue: no English message holds a Chinese word and no Chinese
    one a run of three English words, so that no form error or refusal a page can show
    mixes the languages (markup inside a message is not text)."""
    mixed = []
    for message in catalogue:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else message.string
        for text in ids:
            mixed += [(text, f) for f in language_faults([_without_markup(text)], "en")]
        for text in strings:
            mixed += [(text, f) for f in language_faults([_without_markup(text)], "zh")]
    assert not mixed, "\n".join(f"{text!r}: {fault!r}" for text, fault in mixed)


def _without_markup(text: str) -> str:
    return " ".join(reading_text(f"<p>{text}</p>", "zh"))
