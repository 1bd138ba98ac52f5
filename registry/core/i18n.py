"""Language selection: ``?lang=`` (remembered in the session), the user's preference,
``Accept-Language``, else 简体中文. Messages are written in English in the code and
templates and translated through ``translations/`` (compiled catalogues are committed;
``babel.cfg`` says how to extract and recompile them).

Names of tiers, cities and industries are data: they come from the ``name_zh`` /
``name_en`` columns through ``Model.name(current_language())``, not from the catalogue.
"""

from __future__ import annotations

import functools
from decimal import Decimal
from pathlib import Path
from urllib.parse import quote, urlencode

from babel import numbers
from flask import Flask, current_app, request, session
from flask_babel import Babel, get_locale, refresh

LANGUAGES = ("zh", "en")
#: The value of ``<html lang>`` and ``hreflang`` per language.
HTML_LANG = {"zh": "zh-Hans", "en": "en"}
#: Each language named in itself, for the switcher.
LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}


def _user_preference() -> str | None:
    from flask_login import current_user

    # With no login manager bound (a bare app) the proxy raises AttributeError, which
    # getattr's default absorbs.
    return getattr(current_user, "locale", None)


def remember_language() -> None:
    """``?lang=`` is remembered in the session at the start of the request, whether or
    not anything is translated before the session is renewed (a login)."""
    asked = request.args.get("lang")
    if current_app.session_interface.is_null_session(session):
        return  # the API: no session
    if asked in LANGUAGES and session.get("lang") != asked:
        session["lang"] = asked


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        return asked
    if session.get("lang") in LANGUAGES:
        return str(session["lang"])
    preferred = _user_preference()
    if preferred in LANGUAGES:
        return preferred
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def current_language() -> str:
    """``"zh"`` or ``"en"`` for the current request (zh outside requests)."""
    try:
        locale = get_locale()
    except Exception:  # outside a request or app context
        return "zh"
    return "en" if locale is not None and locale.language == "en" else "zh"


def html_lang() -> str:
    """The BCP 47 tag of the current language, for ``<html lang>``."""
    return HTML_LANG[current_language()]


def language_url(lang: str) -> str:
    """The current page in another language: same path, same query, ``lang`` replaced."""
    # One leading slash only: "//host" would be a link to another site.
    path = "/" + (request.script_root + request.path).lstrip("/")
    query = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    query.append(("lang", lang))
    return quote(path, safe="/") + "?" + urlencode(query)


def number(value: int | float | Decimal) -> str:
    """A count or an amount as the page's language writes it: 5000 → "5,000".

    For quantities only: years, USCCs, registration numbers and the cells of downloads
    are written without separators (people copy them, spreadsheets compute with them).
    """
    return _number(value, str(get_locale()))


@functools.lru_cache(maxsize=4096, typed=True)
def _number(value: int | float | Decimal, locale: str) -> str:
    # A report's page writes a few thousand figures, most of them the same small counts:
    # each is formatted once per language (Babel's formatting took a quarter of a page).
    return str(numbers.format_decimal(value, locale=locale))


def init_app(app: Flask, babel: Babel) -> None:
    translations = Path(app.root_path).parent / "translations"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(translations))
    babel.init_app(app, locale_selector=select_locale)
    # Flask-Babel caches the choice on ``g``; choose afresh for every request, even when
    # requests share one app context (the test client inside a test's context).
    app.before_request(refresh)
    app.before_request(remember_language)
    app.jinja_env.globals.update(
        current_language=current_language,
        html_lang=html_lang,
        language_url=language_url,
        LANGUAGES=LANGUAGES,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        HTML_LANG=HTML_LANG,
    )
    app.jinja_env.filters["number"] = number
    app.jinja_env.policies["ext.i18n.trimmed"] = True
