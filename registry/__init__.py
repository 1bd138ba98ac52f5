"""Enterprise Cultivation Registry: the system of record for the cultivation ladder."""

from __future__ import annotations

import secrets
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from registry.config import Config, from_environment
from registry.core.jsonbody import RegistryJSONProvider

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, blueprints, errors, CLI."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder="../templates",
        static_folder="../static",
    )
    app.json = RegistryJSONProvider(app)
    app.config.from_object(Config)
    config = dict(config or {})
    if "SQLALCHEMY_DATABASE_URI" not in config or "SECRET_KEY" not in config:
        app.config.update(from_environment(app.instance_path))
    app.config.update(config)

    if app.config["TRUSTED_PROXIES"]:
        hops = app.config["TRUSTED_PROXIES"]
        # Flask's documented way to wrap its WSGI callable; its hints declare a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _init_extensions(app)
    _init_request_hooks(app)
    _register_blueprints(app)
    _register_commands(app)
    return app


#: Connections a worker keeps open (see _init_extensions).
POOL_SIZE = 10


def _init_extensions(app: Flask) -> None:
    # Every model module, so that metadata and the feed types are complete.
    import registry.accounts.models  # noqa: F401

    # The words for the codes refusals name (``core.web.name_codes``).
    import registry.applications.labels  # noqa: F401
    import registry.applications.operations  # noqa: F401  (feed type, signal receivers)
    import registry.enterprises.labels  # noqa: F401
    import registry.enterprises.schemas  # noqa: F401
    import registry.imports.models  # noqa: F401
    import registry.ladder.labels  # noqa: F401
    import registry.ladder.operations  # noqa: F401  (also connects its signal receivers)
    import registry.reports.models  # noqa: F401
    import registry.sync.models  # noqa: F401
    from registry.accounts import sessions
    from registry.core import api_lists, busy, expired_forms, i18n, problems, web
    from registry.core.db import configure_engine
    from registry.core.errors import DomainError
    from registry.extensions import api, babel, csrf, db, migrate

    options = dict(app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    # A connection kept for each of a worker's threads (gunicorn.conf.py: 8) and
    # then some: with SQLAlchemy's default of 5, connections beyond it were opened
    # and closed request after request, each new one with its settings to make and,
    # on SQLite, an empty page cache.
    if app.config["SQLALCHEMY_DATABASE_URI"] not in ("sqlite://", "sqlite:///:memory:"):
        options.setdefault("pool_size", POOL_SIZE)  # (a memory database has one)
        # The connection used last is used next: one client's requests in a row keep
        # to one warm connection instead of going round all of them.
        options.setdefault("pool_use_lifo", True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        options.setdefault("connect_args", {"timeout": app.config["DATABASE_LOCK_WAIT"]})
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    db.init_app(app)
    with app.app_context():
        for engine in db.engines.values():
            configure_engine(engine, lock_wait=app.config["DATABASE_LOCK_WAIT"])
    migrate.init_app(app, db, directory=str(app.root_path + "/../migrations"))
    csrf.init_app(app)
    i18n.init_app(app, babel)
    sessions.init_app(app)
    web.init_app(app)
    expired_forms.init_app(app)
    busy.init_app(app)
    # After the HTML error pages: the API's handler answers problem+json under /api/
    # and hands every other path back to them.
    api.init_app(app)
    app.register_error_handler(DomainError, problems.handle_domain_error)
    app.after_request(api_lists.add_link_header)


def _init_request_hooks(app: Flask) -> None:
    from registry.accounts import api as bearer
    from registry.core import ratelimit
    from registry.core.db import set_read_only
    from registry.extensions import db

    def _request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = (
            incoming
            if 0 < len(incoming) <= 64 and incoming.isprintable()
            else (secrets.token_hex(8))
        )

    # Before every other hook: an answer one of them gives (a NUL in the query string,
    # a CSRF refusal) carries its request id too.
    app.before_request_funcs.setdefault(None, []).insert(0, _request_id)

    @app.before_request
    def _begin_request() -> None:
        # Reads take no write lock on SQLite; every other method does (core.db).
        set_read_only(request.method in READ_METHODS)

    # After the request id and the read-only flag: who the bearer token is (API only).
    bearer.init_app(app)
    # Then the API's rate limits, which count per token or per anonymous address.
    ratelimit.init_app(app)

    @app.after_request
    def _tag_response(response: Response) -> Response:
        response.headers["X-Request-ID"] = g.get("request_id", "")
        return response

    @app.teardown_request
    def _end_request(_exc: BaseException | None) -> None:
        # The request is the unit of work: whatever it left uncommitted is discarded
        # here, so no transaction (and no SQLite lock) outlives it.
        db.session.rollback()
        set_read_only(False)


def _register_blueprints(app: Flask) -> None:
    from registry.accounts.views import bp as accounts_bp
    from registry.admin import tier_views, tokens  # noqa: F401  (routes of admin)
    from registry.admin.views import bp as admin_bp
    from registry.applications import review_applications, review_enterprises  # noqa: F401  (routes of review)
    from registry.applications.api import blp as applications_api
    from registry.applications.api_files import blp as attachments_api
    from registry.applications.api_review import blp as review_api
    from registry.applications.notices import bp as notices_bp
    from registry.applications.review import bp as review_bp
    from registry.applications.views import bp as applications_bp
    from registry.core.docs import bp as docs_bp
    from registry.core.health import bp as health_bp
    from registry.enterprises import api_list  # noqa: F401  (routes of enterprises_api: the list)
    from registry.enterprises.api import blp as enterprises_api
    from registry.enterprises.api_annual_reports import blp as annual_reports_api
    from registry.enterprises.views import bp as enterprises_bp
    from registry.extensions import api, csrf
    from registry.imports.views import bp as imports_bp
    from registry.ladder.api import blp as ladder_api
    from registry.ladder.api_enterprise import blp as enterprise_ladder_api
    from registry.ladder.views import bp as ladder_bp
    from registry.reports import page_views  # noqa: F401  (routes of reports: the pages)
    from registry.reports.api import blp as stats_api
    from registry.reports.export_views import bp as exports_bp
    from registry.reports.reports_api import blp as reports_api
    from registry.reports.views import bp as reports_bp
    from registry.sync.api import blp as sync_api
    from registry.sync.views import bp as sync_bp

    for api_blueprint in (
        ladder_api,
        stats_api,
        reports_api,
        applications_api,
        attachments_api,
        review_api,
        enterprises_api,
        annual_reports_api,
        enterprise_ladder_api,
        sync_api,
    ):
        csrf.exempt(api_blueprint)  # bearer tokens only: no cookie, no CSRF (API.md)
        api.register_blueprint(api_blueprint)
    for blueprint in (
        health_bp,
        ladder_bp,
        accounts_bp,
        enterprises_bp,
        applications_bp,
        notices_bp,
        review_bp,
        admin_bp,
        imports_bp,
        sync_bp,
        docs_bp,
        exports_bp,
        reports_bp,
    ):
        app.register_blueprint(blueprint)


def _register_commands(app: Flask) -> None:
    """The ``flask registry …`` group: the commands of each domain's ``cli.py``."""
    from flask.cli import AppGroup

    from registry import cli
    from registry.accounts import cli as accounts_cli
    from registry.demo import cli as demo_cli
    from registry.imports import cli as imports_cli
    from registry.ladder import cli as ladder_cli
    from registry.maintenance import cli as maintenance_cli
    from registry.reports import cli as reports_cli
    from registry.sync.cli import sync_cli

    group = AppGroup("registry", help="Run the enterprise cultivation registry.")
    modules = (cli, accounts_cli, ladder_cli, imports_cli, reports_cli, demo_cli, maintenance_cli)
    for module in modules:
        for command in module.COMMANDS:
            group.add_command(command)
    group.add_command(sync_cli)
    app.cli.add_command(group)
