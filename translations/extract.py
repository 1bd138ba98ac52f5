"""The extraction method babel.cfg names for the registry's Python files.

Babel's own Python extractor reads tokens, and loses the messages of a keyword call
written inside another one's arguments: in
``ValidationFailed("Invalid USCC %(raw)s.", errors=[refusal("uscc", "invalid_uscc",
"Not a valid USCC.")])`` neither message reaches the catalogue. This one reads the
syntax tree, so that every call is found wherever it is written; otherwise it yields
what Babel's does (a call's string arguments, ``None`` for any other, on the line of its
first argument), so that the catalogue's entries and references stay the same.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Mapping
from typing import IO, Any


def call_name(call: ast.Call) -> str | None:
    """The name a call calls: `f(…)` and `x.f(…)` both give "f"."""
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _text(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def extract_python_calls(
    fileobj: IO[bytes],
    keywords: Mapping[str, Any],
    comment_tags: Collection[str],
    options: Mapping[str, Any],
) -> Iterator[tuple[int, str, Any, list[str]]]:
    """``(line, keyword, messages, comments)`` of every call of a keyword, in the order
    of the source; ``messages`` holds one item per positional argument."""
    source = fileobj.read().decode(options.get("encoding", "utf-8"))
    calls = [
        node
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call) and call_name(node) in keywords
    ]
    for call in sorted(calls, key=lambda node: (node.lineno, node.col_offset)):
        messages = tuple(_text(arg) for arg in call.args)
        if not messages:
            continue
        # Babel's line: the first argument's.
        line = min(arg.lineno for arg in [*call.args, *call.keywords])
        yield line, str(call_name(call)), messages if len(messages) > 1 else messages[0], []
