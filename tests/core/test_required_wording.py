"""One wording for "required" everywhere (issue 12): a missing value is refused with
``REQUIRED`` ("This field is required.", 此项为必填项。) whether a form's validator or an
operation finds it, so that a field only an operation requires (a decision's comment, a
claim refusal's reason) reads like any other required field.

The registry's source is read for every refusal with the code ``required`` and every
``InputRequired``, ``DataRequired`` and ``FileRequired`` validator: each must give the one
wording, by its constant or its text.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from registry.accounts import operations as accounts
from registry.accounts.models import Role
from registry.applications import decisions, objections
from registry.core.errors import DomainError
from registry.core.forms import REQUIRED
from registry.enterprises import operations as enterprises
from registry.enterprises.models import Status
from registry.ladder import operations as ladder
from registry.sync import sources
from tests.factories import TEST_ACTOR
from translations.extract import call_name

PACKAGE = Path(__file__).resolve().parents[2] / "registry"
WORDS = "This field is required."
#: The names the one wording goes by in the code.
CONSTANTS = {"REQUIRED", "REQUIRED_CELL"}
#: Refusals with the code ``required`` that ask for an act rather than a value: a
#: checkbox to tick, whose label is a whole sentence (its message says what to do).
ACTS = {
    "Accept the declaration to submit.",
    "Confirm this check to approve.",
}
VALIDATORS = {"InputRequired", "DataRequired", "FileRequired"}
#: The refusal builders and the position of their (code, message) arguments.
BUILDERS = {"refusal": (1, 2), "field_error": (1, 2), "RowError": (2, 3)}


def _words_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return WORDS
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return ast.unparse(node)


def required_wordings() -> dict[str, str]:
    """Each place that refuses a missing value, with the words it uses."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = call_name(node)
            where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
            if name in VALIDATORS:
                found[where] = _words_of(node.args[0]) if node.args else "(default)"
            elif name in BUILDERS:
                code_at, message_at = BUILDERS[name]
                if len(node.args) > message_at:
                    code = node.args[code_at]
                    if isinstance(code, ast.Constant) and code.value == "required":
                        found[where] = _words_of(node.args[message_at])
    return found


def test_every_missing_value_is_refused_in_the_one_wording():
    wordings = required_wordings()
    assert len(wordings) > 20  # the reading finds the forms' and the operations'
    other = {where: words for where, words in wordings.items() if words not in {WORDS, *ACTS}}
    assert not other


def test_the_one_wording_is_the_forms_constant():
    assert REQUIRED._args[0] == WORDS  # lazy_gettext's message id


def _refused(check, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as refused:
        check(*args, **kwargs)
    return refused.value


@pytest.mark.parametrize(
    ("field", "refuse"),
    [
        ("reason", lambda session, make: ladder.require_reason("  ")),
        ("comment", lambda session, make: decisions._required_comment(None)),
        (
            "name",
            lambda session, make: enterprises.update_profile(
                session, make.enterprise(), {"name": " "}, actor=TEST_ACTOR
            ),
        ),
        (
            "merged_into",
            lambda session, make: enterprises.change_status(
                session, make.enterprise(), Status.MERGED, actor=TEST_ACTOR
            ),
        ),
        ("token", lambda session, make: sources.check_token(" ")),
        ("base_url", lambda session, make: sources.check_base_url("")),
        ("name", lambda session, make: sources.check_name(session, "")),
    ],
)
def test_operations_refuse_a_missing_value_in_the_one_wording(session, make, field, refuse):
    error = _refused(refuse, session, make)
    assert error.template == WORDS
    assert [(e["field"], e["code"], str(e["message"])) for e in error.errors] == [
        (field, "required", WORDS)
    ]


def test_an_objection_names_each_missing_field_in_the_one_wording():
    error = _refused(objections._required_text, {"name": "", "text": ""}, {"name": 9, "text": 9})
    assert [(e["field"], str(e["message"])) for e in error.errors] == [
        ("name", WORDS),
        ("text", WORDS),
    ]


def test_refusing_a_claim_without_a_reason_is_required_in_the_one_wording(session, make):
    reviewer = make.user("r@example.com", Role.REVIEWER)
    signed_up = accounts.sign_up(
        session,
        email="claim@example.com",
        password="Gan-river-2026",
        uscc=make.enterprise().uscc,
        enterprise_name="已在册企业",
    )
    error = _refused(
        accounts.decide_claim,
        session,
        signed_up.claim,
        "refuse",
        reviewer=reviewer,
        via="web",
        comment=" ",
    )
    assert error.template == WORDS and error.errors[0]["field"] == "comment"
