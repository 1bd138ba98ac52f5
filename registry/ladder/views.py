"""Public pages of the ladder: the home page and each tier's published list."""

from __future__ import annotations

from flask import Blueprint, render_template

from registry.extensions import db
from registry.ladder import queries

bp = Blueprint("ladder", __name__)


@bp.get("/")
def home():
    return render_template("ladder/home.html", overview=queries.ladder_overview(db.session))
