"""The mirror's rules (PRODUCT.md "Sync with other registries", API.md client rules) at the
operations layer: newer versions only from the feed, a snapshot replaces, records of another origin
are never overwritten (conflicts), unknown codes are kept, the ladder stays local, applied
records get feed and audit entries, a page and its cursor are one transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from registry.core.models import AuditEntry, ChangeLogEntry
from registry.enterprises.models import AnnualReport, Enterprise
from registry.ladder import operations as ladder
from registry.sync import client, operations, peer, sources
from registry.sync.models import SyncConflict
from registry.sync.schemas import check_record
from tests.factories import TEST_ACTOR, new_uscc
from tests.sync.fake_peer import enterprise_data, report_data

pytestmark = pytest.mark.usefixtures("sync_app")


@pytest.fixture
def source(session):
    source = sources.add_source(session, "peer-a", "http://127.0.0.1:9", "secret", actor=TEST_ACTOR)
    session.commit()
    return source


def E(uscc, version=1, **fields):
    return check_record("enterprise", uscc, version, enterprise_data(uscc, version, **fields))


def R(uscc, year, version=1, **figures):
    data = report_data(uscc, year, version, **figures)
    return check_record("annual_report", f"{uscc}/{year}", version, data)


def apply(session, source, records, newer_only=True):
    outcome = operations.apply_records(session, source, records, newer_only=newer_only)
    session.commit()
    return outcome


def held(session, uscc) -> Enterprise:
    session.expire_all()
    return session.scalars(select(Enterprise).where(Enterprise.uscc == uscc)).one()


def test_new_records_are_mirrored_with_their_origin_and_version(session, source):
    code = new_uscc()
    outcome = apply(session, source, [E(code, 3, name="远方"), R(code, 2024, 2, employees=7)])
    assert (outcome.applied, outcome.conflicts) == (2, 0)
    e = held(session, code)
    assert (e.origin, e.source_version, e.version, e.name, e.verified) == (
        "peer-a",
        3,
        1,
        "远方",
        True,
    )
    report = session.scalars(select(AnnualReport)).one()
    assert (report.employees, report.source_version, report.version) == (7, 2, 1)
    # This registry's own feed republishes them, with their origin.
    entries = session.scalars(select(ChangeLogEntry).order_by(ChangeLogEntry.id)).all()
    assert [(x.type, x.key, x.version) for x in entries] == [
        ("enterprise", code, 1),
        ("annual_report", f"{code}/2024", 1),
    ]
    assert json.loads(entries[0].data)["origin"] == "peer-a"
    assert json.loads(entries[0].data)["source_version"] == 3
    audit = session.scalars(select(AuditEntry).where(AuditEntry.via == "sync")).all()
    assert sorted(a.action for a in audit) == ["annual_report.create", "enterprise.create"]
    assert {a.actor_name for a in audit} == {"sync:peer-a"}


def test_the_feed_applies_only_newer_versions(session, source):
    code = new_uscc()
    apply(session, source, [E(code, 5, name="五")])
    assert apply(session, source, [E(code, 4, name="四"), E(code, 5, name="五b")]).applied == 0
    assert held(session, code).name == "五"
    assert apply(session, source, [E(code, 6, name="六"), E(code, 7, name="七")]).applied == 1
    e = held(session, code)
    assert (e.name, e.source_version, e.version) == ("七", 7, 2)
    audit = session.scalars(
        select(AuditEntry).where(AuditEntry.action == "enterprise.update")
    ).one()
    assert audit.via == "sync" and audit.changes["source_version"] == [5, 7]


def test_a_snapshot_replaces_whatever_the_version_and_rewrites_nothing_equal(session, source):
    code = new_uscc()
    apply(session, source, [E(code, 5, name="五"), R(code, 2024, 3, employees=9)])
    entries = session.scalar(select(ChangeLogEntry.id).order_by(ChangeLogEntry.id.desc()))
    # The same state again (a reload after a kill): nothing is written.
    outcome = apply(
        session, source, [E(code, 5, name="五"), R(code, 2024, 3, employees=9)], newer_only=False
    )
    assert outcome.applied == 0
    assert session.scalar(select(ChangeLogEntry.id).order_by(ChangeLogEntry.id.desc())) == entries
    # An older version (the peer was restored from a backup) replaces it all the same.
    outcome = apply(
        session, source, [E(code, 2, name="二"), R(code, 2024, 1, employees=4)], newer_only=False
    )
    assert outcome.applied == 2
    assert (held(session, code).name, held(session, code).source_version) == ("二", 2)
    report = session.scalars(select(AnnualReport)).one()
    assert (report.employees, report.source_version, report.version) == (4, 1, 2)


def test_records_of_another_origin_are_never_overwritten(session, source, make):
    local = make.enterprise(name="本地企业")
    other = make.enterprise(name="别处企业", origin="peer-b", source_version=1)
    session.commit()
    unknown = new_uscc()
    records = [
        E(local.uscc, 9, name="覆盖"),
        R(local.uscc, 2024, 1),
        E(other.uscc, 9, name="覆盖"),
        R(unknown, 2024, 1),
    ]
    outcome = apply(session, source, records)
    assert (outcome.applied, outcome.conflicts) == (0, 4)
    assert held(session, local.uscc).name == "本地企业"
    assert held(session, other.uscc).name == "别处企业"
    assert session.scalar(select(AnnualReport.id)) is None
    conflicts = {
        (c.type, c.key): (c.source_version, c.local_origin)
        for c in session.scalars(select(SyncConflict))
    }
    assert conflicts == {
        ("enterprise", local.uscc): (9, "local"),
        ("annual_report", f"{local.uscc}/2024"): (1, "local"),
        ("enterprise", other.uscc): (9, "peer-b"),
        ("annual_report", f"{unknown}/2024"): (1, ""),
    }
    # Seen again: still one row per record, with the version last seen.
    apply(session, source, [E(local.uscc, 10, name="又覆盖")])
    row = session.scalars(select(SyncConflict).where(SyncConflict.key == local.uscc)).one()
    assert row.source_version == 10 and row.last_seen_at >= row.first_seen_at
    assert session.query(SyncConflict).count() == 4


def test_codes_the_seed_does_not_know_are_stored_as_received(session, source):
    code = new_uscc()
    apply(session, source, [E(code, city_code="999901", industry_code="quantum_things")])
    e = held(session, code)
    assert (e.city_code, e.industry_code) == ("999901", "quantum_things")


def test_the_ladder_stays_local(session, source):
    code = new_uscc()
    peer_ladder = {
        "tier": "specialized",
        "tier_since": "2024-01-01",
        "tier_expires_at": "2027-01-01T00:00:00Z",
        "registration_number": "X-1",
    }
    apply(session, source, [E(code, **peer_ladder)])
    e = held(session, code)
    assert (e.tier, e.registration_number) == (None, None)
    # A mirrored enterprise may hold a tier here; the peer's updates leave it alone.
    ladder.grant_tier(session, e, "tech_sme", actor=TEST_ACTOR, reason="local list")
    session.commit()
    apply(session, source, [E(code, 2, name="新名", **{**peer_ladder, "tier": None})])
    e = held(session, code)
    assert (e.name, e.tier) == ("新名", "tech_sme")


def test_a_status_change_arrives_and_ends_a_local_designation(session, source):
    code, into = new_uscc(), new_uscc()
    apply(session, source, [E(code)])
    ladder.grant_tier(session, held(session, code), "tech_sme", actor=TEST_ACTOR, reason="r")
    session.commit()
    apply(session, source, [E(code, 2, status="merged", merged_into=into)])
    e = held(session, code)
    assert (str(e.status), e.merged_into, e.source_version, e.tier) == ("merged", into, 2, None)
    status = session.scalars(select(AuditEntry).where(AuditEntry.action == "enterprise.status"))
    assert [a.via for a in status] == ["sync"]


def test_a_page_and_its_cursor_are_one_transaction(session, source, monkeypatch):
    code = new_uscc()
    page = peer.FeedPage([E(code), R(code, 2024)], "cursor-2", False, None)
    entries = session.scalar(select(ChangeLogEntry.id))

    def broken(*_args, **_kwargs):
        raise RuntimeError("the disk is full")

    with monkeypatch.context() as patched, pytest.raises(RuntimeError):
        patched.setattr(operations, "_record_conflicts", broken)
        client._apply_page(session, source.id, None, page)
    session.rollback()
    assert session.scalar(select(Enterprise.id)) is None
    assert session.scalar(select(ChangeLogEntry.id)) == entries
    assert held_cursor(session) is None

    client._apply_page(session, source.id, None, page)
    assert held(session, code).origin == "peer-a"
    assert held_cursor(session) == "cursor-2"


def held_cursor(session):
    from registry.sync.models import SyncSource

    session.expire_all()
    return session.scalar(select(SyncSource.cursor))
