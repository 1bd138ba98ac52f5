"""Language selection: ``?lang=`` (remembered in the session), the user's preference,
``Accept-Language``, else 简体中文. Messages are written in English in the code and
templates and translated through ``translations/`` (compiled catalogues are committed).
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask, request, session
from flask_babel import get_locale

LANGUAGES = ("zh", "en")


def select_locale() -> str:
    asked = request.args.get("lang")
    if asked in LANGUAGES:
        session["lang"] = asked
        return asked
    if session.get("lang") in LANGUAGES:
        return session["lang"]
    try:
        from flask_login import current_user

        preferred = getattr(current_user, "locale", None)
    except Exception:  # no login manager bound (tests of a bare app)
        preferred = None
    if preferred in LANGUAGES:
        return preferred
    return request.accept_languages.best_match(LANGUAGES, default="zh") or "zh"


def current_language() -> str:
    """``"zh"`` or ``"en"`` for the current request (zh outside requests)."""
    try:
        locale = get_locale()
    except Exception:
        return "zh"
    return "en" if locale is not None and locale.language == "en" else "zh"


def init_app(app: Flask, babel) -> None:
    translations = Path(app.root_path).parent / "translations"
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(translations))
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals["current_language"] = current_language
    app.jinja_env.policies["ext.i18n.trimmed"] = True
