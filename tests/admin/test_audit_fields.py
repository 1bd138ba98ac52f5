"""Every field an audit entry can record has a label in both languages (QUALITY.md U4).

The field names are read from the registry's source: the ``changes`` of every call that
writes an audit entry (``record_audit``, ``audit_row``, the rows of
``record_audit_rows``), followed through the dicts, ``diff`` calls, field tuples and
helper functions they are built from. A call whose fields cannot be followed must be
listed in :data:`BY_HAND` with the field tuples that bound it; a new one that is not
fails the test, as does a new field without a label.
"""

from __future__ import annotations

import ast
import functools
import importlib
from collections.abc import Iterable
from pathlib import Path

import pytest

from registry.admin.audit_view import field_label
from registry.enterprises.batches import REPORT_FIELDS
from registry.enterprises.operations import PROFILE_FIELDS
from registry.ladder.operations import LADDER_FIELDS, ROUTE_FIELDS
from tests.conftest import make_app

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "registry"

#: The calls that write an audit entry, and the position of their ``changes``.
WRITERS = {"record_audit": 5, "audit_row": 4}

#: Calls whose changes come from values this reading cannot follow (a record read from
#: the database, a profile cleaned by a helper), by module and function: the field
#: tuples the code builds them from.
BY_HAND = {
    # The changes of a planned replacement: a profile's or an annual report's fields.
    ("registry/enterprises/batch_replace.py", "_audit"): {*PROFILE_FIELDS, *REPORT_FIELDS},
    # The ladder fields of the enterprise before the move (its previous move's).
    ("registry/ladder/batch_moves.py", "record_moves"): set(LADDER_FIELDS),
    ("registry/ladder/operations.py", "_record_move"): {*LADDER_FIELDS, *ROUTE_FIELDS},
    # Profiles as ``clean_profile`` returns them: profile fields only.
    ("registry/enterprises/operations.py", "create_enterprise"): set(PROFILE_FIELDS),
    ("registry/enterprises/operations.py", "update_profile"): set(PROFILE_FIELDS),
    # A new application: its route only when its tier has routes.
    ("registry/applications/operations.py", "create"): {"state", "tier", "kind", "route"},
}


class Module:
    """One module's syntax tree, its functions and its imported values."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        self.tree = ast.parse(path.read_text(encoding="utf-8"))
        self.functions = {
            node.name: node
            for node in ast.walk(self.tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }

    @property
    def where(self) -> str:
        return str(self.path.relative_to(ROOT))

    def constant(self, name: str) -> tuple[str, ...] | None:
        """A module-level tuple of field names (``PROFILE_FIELDS``), defined or imported."""
        value = getattr(importlib.import_module(self.name), name, None)
        if isinstance(value, tuple | list | frozenset | set) and all(
            isinstance(v, str) for v in value
        ):
            return tuple(value)
        return None


class Reader:
    """The field names an expression of a function can hold as dict keys; what cannot
    be followed is listed in ``unresolved``."""

    def __init__(self, module: Module, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        self.module, self.function = module, function
        args = function.args
        self.parameters = {a.arg for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]}
        if args.vararg:
            self.parameters.add(args.vararg.arg)
        self.keywords = args.kwarg.arg if args.kwarg else None
        self.unresolved: list[str] = []

    def _cannot(self, node: ast.expr | str) -> set[str]:
        self.unresolved.append(node if isinstance(node, str) else ast.unparse(node))
        return set()

    def keys(self, node: ast.expr | None, seen: frozenset[str] = frozenset()) -> set[str]:
        if node is None or (isinstance(node, ast.Constant) and node.value is None):
            return set()
        if isinstance(node, ast.Dict):
            found: set[str] = set()
            for key, value in zip(node.keys, node.values, strict=True):
                if key is None:
                    found |= self.keys(value, seen)
                elif isinstance(key, ast.Constant) and isinstance(key.value, str):
                    found.add(key.value)
                else:
                    self._cannot(key)
            return found
        if isinstance(node, ast.DictComp):
            return self._iterated(node.generators[0].iter, seen)
        if isinstance(node, ast.Call):
            return self._called(node, seen)
        if isinstance(node, ast.Name):
            return self._named(node.id, seen)
        return self._cannot(node)

    def _iterated(self, node: ast.expr, seen: frozenset[str]) -> set[str]:
        """The names a comprehension runs over: a tuple of field names, or a dict's keys."""
        if isinstance(node, ast.Name):
            if node.id in self.parameters or self._assigned(node.id):
                return self._named(node.id, seen)
            names = self.module.constant(node.id)
            return set(names) if names is not None else self._cannot(node)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("items", "keys")
        ):
            return self.keys(node.func.value, seen)
        return self._cannot(node)

    def _called(self, node: ast.Call, seen: frozenset[str]) -> set[str]:
        name = node.func.id if isinstance(node.func, ast.Name) else None
        if name == "diff":
            return set().union(*(self.keys(arg, seen) for arg in node.args))
        if name == "dict" and len(node.args) == 1:
            arg = node.args[0]
            if isinstance(arg, ast.Call) and _called_name(arg) == "zip":
                return self._iterated(arg.args[0], seen)
            return self.keys(arg, seen)
        if name in self.module.functions and name not in seen:
            helper = Reader(self.module, self.module.functions[name])
            returned = [n.value for n in ast.walk(helper.function) if isinstance(n, ast.Return)]
            found = set().union(*(helper.keys(value, seen | {name}) for value in returned))
            self.unresolved += helper.unresolved
            return found
        return self._cannot(node)

    def _assigned(self, name: str) -> list[ast.expr]:
        values = []
        for node in ast.walk(self.function):
            if isinstance(node, ast.Assign):
                if any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
                    values.append(node.value)
            elif (
                isinstance(node, ast.AnnAssign)
                and isinstance(node.target, ast.Name)
                and node.target.id == name
                and node.value is not None
            ):
                values.append(node.value)
        return values

    def _named(self, name: str, seen: frozenset[str]) -> set[str]:
        if name == self.keywords:
            return self._keywords_passed()
        values = self._assigned(name)
        if name in self.parameters or not values:
            return self._cannot(name)
        found = set().union(*(self.keys(value, seen) for value in values))
        # ``name["field"] = …`` adds a field.
        for node in ast.walk(self.function):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if (
                        isinstance(target, ast.Subscript)
                        and isinstance(target.value, ast.Name)
                        and target.value.id == name
                        and isinstance(target.slice, ast.Constant)
                    ):
                        found.add(target.slice.value)
        return found

    def _keywords_passed(self) -> set[str]:
        """``**extra``: the keywords every caller of the function passes beyond its own
        parameters."""
        found = set()
        for module in modules():
            for node in ast.walk(module.tree):
                if isinstance(node, ast.Call) and _called_name(node) == self.function.name:
                    found |= {k.arg for k in node.keywords if k.arg} - self.parameters
        return found


def _called_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


_MODULES: list[Module] = []


def modules() -> list[Module]:
    if not _MODULES:
        _MODULES.extend(Module(p) for p in sorted(PACKAGE.rglob("*.py")))
    return _MODULES


def _changes_of(node: ast.Call) -> Iterable[ast.expr | None]:
    """The ``changes`` expressions an audit-writing call carries."""
    name = _called_name(node)
    if name in WRITERS:
        keyword = next((k.value for k in node.keywords if k.arg == "changes"), None)
        position = WRITERS[name]
        yield node.args[position] if len(node.args) > position else keyword
    elif name == "record_audit_rows":
        # Rows built in place: their "changes" member.
        for inner in ast.walk(node):
            if isinstance(inner, ast.Dict):
                for key, value in zip(inner.keys, inner.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "changes":
                        yield value


def audited_fields() -> tuple[set[str], list[str]]:
    """Every field name an audit entry's ``changes`` can hold, and the calls that could
    not be followed and are not in :data:`BY_HAND`."""
    fields, unresolved, _by_hand = _read_calls()
    return fields, unresolved


@functools.cache
def _read_calls() -> tuple[set[str], list[str], set[tuple[str, str]]]:
    fields: set[str] = set()
    unresolved: list[str] = []
    by_hand_used: set[tuple[str, str]] = set()
    for module in modules():
        if module.where in ("registry/core/audit.py",):
            continue  # the writers themselves
        for function in module.functions.values():
            # Calls nested in an inner function are read with that function.
            inner = {
                id(n)
                for f in ast.walk(function)
                if f is not function and isinstance(f, ast.FunctionDef | ast.AsyncFunctionDef)
                for n in ast.walk(f)
            }
            for node in ast.walk(function):
                if not isinstance(node, ast.Call) or id(node) in inner:
                    continue
                for changes in _changes_of(node):
                    reader = Reader(module, function)
                    fields |= reader.keys(changes)
                    if not reader.unresolved:
                        continue
                    by_hand = BY_HAND.get((module.where, function.name))
                    if by_hand is None:
                        unresolved.append(
                            f"{module.where}:{node.lineno} {function.name}: "
                            + ", ".join(reader.unresolved)
                        )
                    else:
                        fields |= by_hand
                        by_hand_used.add((module.where, function.name))
    return fields, unresolved, by_hand_used


def test_every_audit_call_is_followed():
    _fields, unresolved = audited_fields()
    assert not unresolved, (
        "The fields these audit entries record cannot be told from the source; list them "
        f"in BY_HAND: {unresolved}"
    )


def test_every_call_listed_by_hand_still_needs_it():
    _fields, _unresolved, used = _read_calls()
    assert set(BY_HAND) == used


def test_the_reading_finds_the_fields_of_each_kind_of_entry():
    """A check of the reading itself: fields of literal changes, of ``diff`` over field
    tuples, of ``**extra`` keywords and of helpers."""
    fields, _unresolved = audited_fields()
    assert {"ban_until", "prefix", "user", "claimed_by", "sha256", "merged_into"} <= fields
    assert {"contact_phone", "global_market_rank", "source_version", "criteria"} <= fields


@pytest.fixture(scope="module")
def labels_app():
    """An app for its translations only: no database (the labels need none)."""
    return make_app("sqlite://")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_audited_field_has_a_label(labels_app, lang):
    fields, _unresolved = audited_fields()
    with labels_app.test_request_context(f"/?lang={lang}"):
        unlabelled = sorted(name for name in fields if field_label(name) == name)
        labels = {name: field_label(name) for name in fields}
    assert not unlabelled
    if lang == "zh":
        # In Chinese: no label left in English.
        english = sorted(n for n, label in labels.items() if label.isascii())
        assert not english
