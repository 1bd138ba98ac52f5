"""Conditional writes (API.md): the rules of If-Match / If-None-Match, the JSON check
that comes before them, and the compare-and-lock UPDATE that carries the version check."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from registry.core.api import BodyRefused
from registry.core.errors import DomainError, PreconditionFailed, PreconditionRequired
from registry.core.models import ChangeLogEntry
from registry.core.preconditions import (
    check_write,
    claim_version,
    conditional_write,
    etag,
    reject_malformed_json,
    tagged,
)
from registry.enterprises.models import Enterprise


def _in_request(app, headers=None, data=b"", content_type="application/json"):
    return app.test_request_context(
        "/api/v1/x", method="PUT", headers=headers or {}, data=data, content_type=content_type
    )


def test_an_etag_is_the_version_as_a_strong_validator(session, make):
    enterprise = make.enterprise()
    assert etag(7) == '"7"'
    assert tagged(enterprise, 201, Location="/there") == (
        enterprise,
        201,
        {"ETag": '"1"', "Location": "/there"},
    )


@pytest.mark.parametrize(
    ("headers", "current", "outcome"),
    [
        ({"If-None-Match": "*"}, None, "create"),
        ({"If-None-Match": "*"}, 3, PreconditionFailed),
        ({"If-None-Match": '"3"'}, 3, PreconditionFailed),
        ({"If-None-Match": 'W/"3"'}, 3, PreconditionFailed),  # weak comparison here
        ({"If-None-Match": '"2"'}, 3, PreconditionRequired),  # an update needs If-Match
        ({"If-None-Match": '"2"'}, None, PreconditionRequired),  # a create needs *
        ({}, None, PreconditionRequired),
        ({}, 3, PreconditionRequired),
        ({"If-Match": '"3"'}, 3, "update"),
        ({"If-Match": '"2", "3"'}, 3, "update"),
        ({"If-Match": "*"}, 3, "update"),
        ({"If-Match": '"2"'}, 3, PreconditionFailed),
        ({"If-Match": 'W/"3"'}, 3, PreconditionFailed),  # W/ tags never match
        ({"If-Match": '"3"'}, None, PreconditionFailed),
        ({"If-Match": "*"}, None, PreconditionFailed),
        ({"If-Match": '"3"', "If-None-Match": "*"}, 3, "update"),  # If-Match decides
    ],
)
def test_the_rules_of_a_write(app, headers, current, outcome):
    with _in_request(app, headers):
        if isinstance(outcome, str):
            assert check_write(current) is (outcome == "create")
        else:
            with pytest.raises(outcome) as refused:
                check_write(current)
            assert refused.value.status == (412 if outcome is PreconditionFailed else 428)


def test_malformed_json_is_refused_before_the_preconditions(app):
    with _in_request(app, data=b'{"name": '):
        with pytest.raises(DomainError) as refused:
            conditional_write(None, None)
    assert (refused.value.status, refused.value.code) == (400, "malformed_json")
    with _in_request(app, data=b"", content_type="application/json"):
        reject_malformed_json()  # an empty body: nothing to parse
    # A body of another type is 415 before anything reads it (API.md: 415 before 400).
    with _in_request(app, data=b"{not json", content_type="text/plain"):
        with pytest.raises(BodyRefused) as refused_type:
            reject_malformed_json()
    assert refused_type.value.response.status_code == 415


def test_claiming_the_version_takes_the_row_and_changes_nothing(session, make):
    enterprise = make.enterprise(name="原名")
    session.commit()
    entries = session.scalar(select(func.count()).select_from(ChangeLogEntry))
    claim_version(session, enterprise)
    assert (enterprise.version, enterprise.name) == (1, "原名")
    session.commit()
    assert session.scalar(select(func.count()).select_from(ChangeLogEntry)) == entries


def test_claiming_a_version_that_moved_on_is_412(app, session, make):
    enterprise = make.enterprise()
    enterprise_id = enterprise.id
    session.commit()
    # Another transaction changed it after this one read version 1.
    with app.app_context():
        from registry.extensions import db

        other = db.session.get(Enterprise, enterprise_id)
        other.version = 2
        db.session.commit()
        db.session.remove()
    # What this transaction read before the other one committed.
    set_committed_value(enterprise, "version", 1)
    with pytest.raises(PreconditionFailed):
        claim_version(session, enterprise)
    session.rollback()


def test_conditional_write_claims_an_update_and_not_a_create(app, session, make):
    enterprise = make.enterprise()
    session.commit()
    with _in_request(app, {"If-Match": '"1"'}):
        assert conditional_write(session, enterprise) is False
    session.rollback()
    with _in_request(app, {"If-None-Match": "*"}):
        assert conditional_write(session, None) is True
