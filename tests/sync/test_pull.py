"""The pull client against a fake peer: bootstrap from the snapshot, follow the feed,
and fail closed — a peer that answers garbage, 500, hangs, sends an off-contract entry
or a snapshot without its end line leaves B exactly as it was and records the error."""

from __future__ import annotations

import gzip

import pytest
from sqlalchemy import select

from registry.core.models import ChangeLogEntry
from registry.enterprises.models import AnnualReport
from tests.factories import new_uscc
from tests.sync.fake_peer import AT, enterprise_data, hang, problem, report_data
from tests.sync.pull_world import add_source, fingerprint, mirrored, run_pull, source_row

pytestmark = pytest.mark.usefixtures("sync_app")


def test_bootstraps_from_the_snapshot_then_follows_the_feed(session, runner, peer):
    first, second = new_uscc(), new_uscc()
    peer.enterprise(first, name="甲公司")
    peer.report(first, 2024, employees=50, rd_staff=5)
    add_source(session, peer)

    result = run_pull(runner)
    assert result.exit_code == 0, result.output
    assert "2 records applied, 0 conflicts" in result.output
    assert peer.requests[:2] == ["export", "changes"]
    e = mirrored(session, first)
    assert (e.origin, e.source_version, e.name, e.version) == ("peer-a", 1, "甲公司", 1)
    assert source_row(session).cursor == peer.cursor()

    peer.enterprise(first, 2, name="甲公司（新）")
    peer.enterprise(second)
    peer.report(first, 2024, 2, employees=60, rd_staff=5)
    result = run_pull(runner)
    assert result.exit_code == 0, result.output
    assert "3 records applied" in result.output
    assert peer.requests.count("export") == 1
    e = mirrored(session, first)
    assert (e.name, e.source_version, e.version) == ("甲公司（新）", 2, 2)
    report = session.scalars(select(AnnualReport).where(AnnualReport.enterprise_id == e.id)).one()
    assert (report.employees, report.source_version) == (60, 2)
    assert mirrored(session, second).origin == "peer-a"
    source = source_row(session)
    assert source.cursor == peer.cursor()
    assert source.records_applied == 5
    assert source.last_success_at is not None and source.last_error is None


def test_pages_follow_has_more(session, runner, peer, monkeypatch):
    from registry.sync import peer as peer_http

    add_source(session, peer)
    assert run_pull(runner).exit_code == 0
    monkeypatch.setattr(peer_http, "PAGE_LIMIT", 2)
    codes = [new_uscc() for _ in range(5)]
    for code in codes:
        peer.enterprise(code)
    result = run_pull(runner)
    assert result.exit_code == 0, result.output
    assert "5 records applied" in result.output
    assert peer.requests.count("changes") == 1 + 3
    assert source_row(session).cursor == peer.cursor()


def test_gzip_snapshot_lines_are_accepted(session, runner, peer):
    code = new_uscc()
    peer.enterprise(code)

    def gzipped(_request):
        from werkzeug.wrappers import Response

        body = gzip.compress(b"".join(peer.snapshot_lines()))
        return Response(body, mimetype="application/x-ndjson", headers={"Content-Encoding": "gzip"})

    peer.misbehave["export"] = gzipped
    add_source(session, peer)
    result = run_pull(runner)
    assert result.exit_code == 0, result.output
    assert mirrored(session, code).origin == "peer-a"


def _refused(session, runner, expected: str) -> None:
    before = fingerprint(session)
    result = run_pull(runner)
    assert result.exit_code == 1, result.output
    assert result.output.count("\n") == 1 and expected in result.output, result.output
    assert fingerprint(session) == before
    source = source_row(session)
    assert expected in source.last_error
    assert source.last_error_at is not None and source.last_run_at is not None


def _followed_once(session, runner, peer) -> None:
    """B holds the peer's snapshot and a cursor; the peer has written more since."""
    peer.enterprise(new_uscc())
    add_source(session, peer)
    assert run_pull(runner).exit_code == 0
    peer.enterprise(new_uscc())
    peer.report(peer.log[0]["key"], 2024, employees=3)


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ((500, "application/problem+json", b'{"code": "internal_error"}'), "answered 500"),
        ((200, "application/json", b"<html>garbage"), "not valid JSON"),
        ((200, "application/json", b'{"data": [], "next_cursor": "x"}'), "off the contract"),
        ((200, "text/html", b"{}"), "not application/json"),
        ((503, "text/plain", b"busy"), "answered 503"),
    ],
)
def test_a_bad_feed_page_changes_nothing(session, runner, peer, answer, expected):
    _followed_once(session, runner, peer)
    peer.misbehave["changes"] = answer
    _refused(session, runner, expected)


def test_a_hanging_peer_times_out_and_changes_nothing(app, session, runner, peer, monkeypatch):
    _followed_once(session, runner, peer)
    monkeypatch.setitem(app.config, "SYNC_READ_TIMEOUT_SECONDS", 0.5)  # a hang fails fast
    peer.misbehave["changes"] = hang(peer)
    _refused(session, runner, "did not answer in time")


def _entry(peer, type_: str) -> dict:
    if type_ == "enterprise":
        data = enterprise_data(new_uscc())
        key = data["uscc"]
    else:
        data = report_data(peer.log[0]["key"], 2023, employees=10)
        key = f"{data['enterprise_uscc']}/2023"
    return {
        "type": type_,
        "key": key,
        "op": "upsert",
        "version": 1,
        "occurred_at": AT,
        "data": data,
    }


def test_a_report_without_the_single_champion_figures_reads_them_as_null(session, runner, peer):
    # A peer built before them (or following API.md's list of report fields) sends neither.
    _followed_once(session, runner, peer)
    entry = _entry(peer, "annual_report")
    entry["data"].pop("years_in_field")
    entry["data"].pop("product_revenue_share")
    peer.log.append(entry)
    result = run_pull(runner)
    assert result.exit_code == 0, result.output
    uscc, year = entry["key"].split("/")
    report = session.scalars(
        select(AnnualReport).where(
            AnnualReport.year == int(year),
            AnnualReport.enterprise_id == mirrored(session, uscc).id,
        )
    ).one()
    assert (report.years_in_field, report.product_revenue_share, report.employees) == (
        None,
        None,
        entry["data"]["employees"],
    )


@pytest.mark.parametrize(
    ("type_", "mutate", "expected"),
    [
        ("enterprise", lambda e: e["data"].update(surprise=1), "unknown members"),
        ("enterprise", lambda e: e["data"].pop("tier"), "missing members"),
        ("enterprise", lambda e: e["data"].update(name=""), "name must be"),
        ("enterprise", lambda e: e["data"].update(founded_on="2015/06/01"), "founded_on must"),
        ("enterprise", lambda e: e["data"].update(status="gone"), "status must be"),
        ("enterprise", lambda e: e["data"].update(version=2), "version differs"),
        ("enterprise", lambda e: e.update(key=new_uscc()), "does not name its data"),
        ("enterprise", lambda e: e.update(version=True), "off the contract"),
        ("enterprise", lambda e: e.update(type="tier_event"), "off the contract"),
        ("enterprise", lambda e: e.update(data=None), "off the contract"),
        ("enterprise", lambda e: e.update(extra=1), "off the contract"),
        ("annual_report", lambda e: e["data"].update(employees=-1), "employees must be"),
        ("annual_report", lambda e: e["data"].update(revenue="12"), "revenue must be"),
        ("annual_report", lambda e: e["data"].update(rd_staff=11), "rd_staff > employees"),
        ("annual_report", lambda e: e["data"].pop("employees"), "missing members"),
    ],
)
def test_one_off_contract_entry_fails_the_whole_page(
    session, runner, peer, type_, mutate, expected
):
    _followed_once(session, runner, peer)
    entry = _entry(peer, type_)
    mutate(entry)
    peer.log.append(entry)  # after good entries of the same page
    _refused(session, runner, expected)


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        (lambda lines: lines[:-1], "without its end line"),
        (lambda lines: lines[:-2] + lines[-1:], "does not match"),
        (lambda lines: [lines[0], b"{not json\n", *lines[1:]], "not valid JSON"),
        (lambda lines: lines + [lines[1]], "after its end line"),
        (lambda lines: [b'{"as_of": 5}\n', *lines[1:]], "off the contract"),
    ],
)
def test_a_bad_snapshot_changes_nothing(session, runner, peer, cut, expected):
    from werkzeug.wrappers import Response

    for _ in range(3):
        code = new_uscc()
        peer.enterprise(code)
        peer.report(code, 2024)
    peer.misbehave["export"] = lambda _r: Response(
        b"".join(cut(peer.snapshot_lines())), mimetype="application/x-ndjson"
    )
    add_source(session, peer)
    _refused(session, runner, expected)
    assert source_row(session).cursor is None


def test_a_snapshot_line_over_the_limit_is_refused(session, runner, peer, monkeypatch):
    from registry.sync import peer as peer_http

    monkeypatch.setattr(peer_http, "MAX_LINE_BYTES", 2000)
    peer.enterprise(new_uscc(), main_products="很" * 1500)
    add_source(session, peer)
    _refused(session, runner, "longer than 1 MB")


def test_an_expired_cursor_reloads_the_snapshot(session, runner, peer):
    _followed_once(session, runner, peer)
    changes_before = session.scalar(select(ChangeLogEntry.id).order_by(ChangeLogEntry.id.desc()))
    session.rollback()
    peer.epoch = "epoch-2"  # the peer was restored: every old cursor expires
    result = run_pull(runner)
    assert result.exit_code == 0, result.output
    assert peer.requests.count("export") == 2
    assert "1 snapshot(s) loaded" in result.output
    assert source_row(session).cursor == peer.cursor()
    assert session.scalar(select(ChangeLogEntry.id).order_by(ChangeLogEntry.id.desc())) > (
        changes_before
    )
    for (type_, key), (version, _data) in peer.state.items():
        if type_ == "enterprise":
            assert mirrored(session, key).source_version == version


def test_an_expired_cursor_with_a_bad_snapshot_changes_nothing(session, runner, peer):
    _followed_once(session, runner, peer)
    peer.epoch = "epoch-2"
    peer.misbehave["export"] = (500, "application/problem+json", b"{}")
    _refused(session, runner, "answered 500")


def test_a_refused_token_is_reported(session, runner, peer):
    peer.token = "another"
    add_source(session, peer)
    peer.token = "peer-token"
    peer.misbehave["export"] = lambda _r: problem(401, "unauthenticated")
    _refused(session, runner, "answered 401 (unauthenticated)")


def test_an_unknown_source_is_one_line(runner):
    result = run_pull(runner, "nobody")
    assert result.exit_code == 1
    assert "No sync source named nobody" in result.output
