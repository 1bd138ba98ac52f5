"""``/api/docs``: the OpenAPI document (``/api/v1/openapi.json``) rendered by Swagger UI.

Public, and outside the document itself. Swagger UI's files come from the
``swagger-ui-bundle`` package and are served by the registry, so the page works with no
internet; the page starts Swagger UI from ``static/js/api-docs.js`` because the CSP
forbids inline script (flask-smorest's own Swagger page, which loads a CDN and an
inline script, is not used).
"""

from __future__ import annotations

import swagger_ui_bundle
from flask import Blueprint, Response, abort, render_template, send_from_directory

from registry.core.web import public

bp = Blueprint("docs", __name__, url_prefix="/api/docs")

#: The only files of the bundle that are served: its stylesheet and the script that
#: carries Swagger UI with React (the standalone preset, i.e. the top bar, is not used).
ASSETS = frozenset({"swagger-ui.css", "swagger-ui-bundle.js"})


@bp.get("")
def page() -> str:
    return render_template("api/docs.html")


@bp.get("/assets/<path:filename>")
@public
def asset(filename: str) -> Response:
    if filename not in ASSETS:
        abort(404)
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
