"""Sync sources: names, base URLs and tokens checked alike by the CLI and the admin page;
the token stored encrypted and never shown again; the conflict report; and the checks
of what a peer sends held to the output schemas."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from registry.accounts.models import Role
from registry.core.errors import ValidationFailed
from registry.core.models import AuditEntry
from registry.enterprises import operations as enterprise_ops
from registry.enterprises.schemas import annual_report_out, enterprise_out
from registry.sync import crypto, operations, schemas, sources
from registry.sync.models import SyncConflict, SyncSource
from tests.factories import TEST_ACTOR, new_uscc
from tests.sync.pull_world import SYNC_KEY

pytestmark = pytest.mark.usefixtures("sync_app")


@pytest.mark.parametrize(
    ("url", "stored"),
    [
        ("http://127.0.0.1:5000", "http://127.0.0.1:5000"),
        ("https://registry.example.org/", "https://registry.example.org"),
        (" https://x.example/prefix/registry// ", "https://x.example/prefix/registry"),
        ("http://[::1]:8080/r", "http://[::1]:8080/r"),
    ],
)
def test_base_urls_accepted(url, stored):
    assert sources.check_base_url(url) == stored


@pytest.mark.parametrize(
    "url",
    [
        "",
        "ftp://x.example",
        "registry.example.org",
        "http://",
        "http://x.example:99999",
        "http://x.example/?a=1",
        "http://x.example/#top",
        "http://user:pw@x.example",
        "http://x.example/api/v1",
        "http://x.example/a b",
        "http://x.example/" + "a" * 500,
    ],
)
def test_base_urls_refused(url):
    with pytest.raises(ValidationFailed) as refused:
        sources.check_base_url(url)
    assert refused.value.errors[0]["field"] == "base_url"


@pytest.mark.parametrize("name", ["", "local", "LOCAL", "-peer", "peer a", "a" * 65, "pé"])
def test_names_refused(session, name):
    with pytest.raises(ValidationFailed) as refused:
        sources.check_name(session, name)
    assert refused.value.errors[0]["field"] == "name"


def test_a_source_is_stored_with_its_token_encrypted(session):
    source = sources.add_source(
        session, "Peer-A", "http://127.0.0.1:5001/", "ecr_secret", actor=TEST_ACTOR
    )
    session.commit()
    assert (source.name, source.base_url) == ("peer-a", "http://127.0.0.1:5001")
    assert b"ecr_secret" not in source.token_encrypted
    assert crypto.decrypt_token(source.token_encrypted) == "ecr_secret"
    with pytest.raises(crypto.TokenUnreadable):
        crypto.decrypt_token(source.token_encrypted, "another key")
    audit = session.scalars(select(AuditEntry).where(AuditEntry.object_type == "sync_source")).one()
    assert "ecr_secret" not in str(audit.changes)
    with pytest.raises(ValidationFailed):
        sources.add_source(session, "peer-a", "http://x.example", "t", actor=TEST_ACTOR)


def test_cli_add_list_set_token(session, runner):
    result = runner.invoke(
        args=["registry", "sync", "add", "peer-a", "http://127.0.0.1:5001", "--token-stdin"],
        input="ecr_from_stdin\n",
    )
    assert result.exit_code == 0, result.output
    assert "added sync source peer-a" in result.output
    source = session.scalars(select(SyncSource)).one()
    assert crypto.decrypt_token(source.token_encrypted) == "ecr_from_stdin"
    session.rollback()

    refused = runner.invoke(
        args=["registry", "sync", "add", "local", "http://x.example", "--token", "t"]
    )
    assert refused.exit_code == 1 and "origin of local records" in refused.output
    refused = runner.invoke(args=["registry", "sync", "add", "b", "http://x.example"])
    assert refused.exit_code == 1 and "--token" in refused.output

    result = runner.invoke(args=["registry", "sync", "set-token", "peer-a", "--token", "ecr_new"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert (
        crypto.decrypt_token(session.scalars(select(SyncSource)).one().token_encrypted) == "ecr_new"
    )
    session.rollback()

    listed = runner.invoke(args=["registry", "sync", "list"])
    assert listed.exit_code == 0 and "peer-a\thttp://127.0.0.1:5001" in listed.output
    assert "ecr_" not in listed.output


# --- the admin page ------------------------------------------------------------------------


def test_the_admin_page_adds_lists_and_never_shows_the_token(session, auth):
    client = auth.signed_in_as_new(Role.ADMIN, email="admin@example.com")
    form = {"name": "peer-a", "base_url": "http://127.0.0.1:5001/", "token": "ecr_page_token"}
    added = client.post("/admin/sync", data=form)
    assert added.status_code == 303
    page = client.get("/admin/sync", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "peer-a" in html and "http://127.0.0.1:5001" in html
    assert "ecr_page_token" not in html

    refused = client.post(
        "/admin/sync",
        data={"name": "peer-a", "base_url": "http://x.example/api/v1", "token": "t"},
        headers={"Accept-Language": "en"},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="name-error">[^<]*exists', html)
    assert session.scalar(select(SyncSource.id).where(SyncSource.name != "peer-a")) is None


def test_the_admin_page_shows_every_fault_at_once(session, auth):
    """U2: the name, the URL and the token are all checked, each fault beside its field."""
    client = auth.signed_in_as_new(Role.ADMIN, email="admin@example.com")
    refused = client.post(
        "/admin/sync?lang=en",
        data={"name": "Peer A!", "base_url": "ftp://x.example", "token": ""},
    )
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert re.search(r'id="name-error">A source name is 1 to 64', html)
    assert re.search(r'id="base_url-error">Give an http:// or https:// URL', html)
    assert re.search(r'id="token-error">This field is required.<', html)
    assert 'value="Peer A!"' in html and 'value="ftp://x.example"' in html
    assert session.scalar(select(SyncSource.id)) is None


def test_a_source_is_refused_with_every_fault_at_once(session):
    with pytest.raises(ValidationFailed) as refused:
        sources.add_source(session, "local", "http://x.example/api/v1", "a b", actor=TEST_ACTOR)
    assert [(e["field"], e["code"]) for e in refused.value.errors] == [
        ("name", "invalid_choice"),
        ("base_url", "invalid_format"),
        ("token", "invalid_format"),
    ]
    # The command line prints every fault on its one line.
    assert "without /api/v1" in str(refused.value) and "bearer token" in str(refused.value)


def test_the_conflict_report(session, make, auth):
    client = auth.signed_in_as_new(Role.ADMIN, email="admin@example.com")
    source = sources.add_source(session, "peer-a", "http://x.example", "t", actor=TEST_ACTOR)
    local = make.enterprise()
    session.commit()
    record = schemas.check_record(
        "enterprise", local.uscc, 4, {**enterprise_out.dump(local), "version": 4}
    )
    assert operations.apply_records(session, source, [record], newer_only=True).conflicts == 1
    session.commit()
    page = client.get("/admin/sync/peer-a/conflicts", headers={"Accept-Language": "en"})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert local.uscc in html and "this registry" in html
    listing = client.get("/admin/sync", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert re.search(r'href="/admin/sync/peer-a/conflicts">1<', listing)
    assert session.query(SyncConflict).count() == 1
    assert client.get("/admin/sync/nobody/conflicts").status_code == 404


def test_only_admins_see_the_pages(auth):
    client = auth.signed_in_as_new(Role.REVIEWER, email="reviewer@example.com")
    assert client.get("/admin/sync").status_code == 403
    assert client.post("/admin/sync", data={"name": "x"}).status_code == 403


# --- what a peer may send ------------------------------------------------------------------


def test_the_checks_name_exactly_the_output_schemas_members():
    assert set(schemas.ENTERPRISE_CHECKS) == set(enterprise_out.fields)
    assert set(schemas.REPORT_CHECKS) == set(annual_report_out.fields)


def test_what_this_registry_serves_passes_the_checks(session):
    owner = enterprise_ops.create_enterprise(
        session, new_uscc(), "本地", actor=TEST_ACTOR, county="某县", founded_on=None
    )
    report = enterprise_ops.save_annual_report(
        session,
        owner,
        2024,
        {"employees": 10, "rd_staff": 3, "debt_ratio": 12.5, "revenue": 10**12},
        actor=TEST_ACTOR,
    )
    session.flush()
    type_, key, version, values = schemas.check_record(
        "enterprise", owner.uscc, owner.version, enterprise_out.dump(owner)
    )
    assert values[:2] == ("本地", None) and values[-2:] == ("active", None)
    _t, _k, _v, (uscc, figures) = schemas.check_record(
        "annual_report", f"{owner.uscc}/2024", report.version, annual_report_out.dump(report)
    )
    assert uscc == owner.uscc and figures[0] == 2024


def test_the_sync_key_comes_from_the_environment_or_the_instance_folder(tmp_path, monkeypatch):
    from registry.config import from_environment

    monkeypatch.setenv("SYNC_SECRET_KEY", SYNC_KEY)
    monkeypatch.setenv("SECRET_KEY", "x")
    assert from_environment(str(tmp_path))["SYNC_SECRET_KEY"] == SYNC_KEY
    monkeypatch.delenv("SYNC_SECRET_KEY")
    generated = from_environment(str(tmp_path))["SYNC_SECRET_KEY"]
    assert len(generated) == 64 and (tmp_path / "sync_secret_key").stat().st_mode & 0o077 == 0
    assert from_environment(str(tmp_path))["SYNC_SECRET_KEY"] == generated
