"""Plumbing of the ``flask registry …`` commands that every domain's ``cli.py`` shares:
the actor commands act as, one transaction per command (or per item), a refusal as one
line on stderr and exit status 1, and the parsing of date arguments.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterable, Iterator
from datetime import date
from typing import Any, TypeVar

import click
from flask import current_app
from sqlalchemy.exc import OperationalError

from registry.core.audit import Actor
from registry.core.db import is_lock_timeout
from registry.core.dbsession import DbSession
from registry.core.errors import DomainError, ValidationFailed

#: Commands act as the system (no signed-in user); the audit log records via="cli".
CLI_ACTOR = Actor.system("cli")

#: No designation or ban of this registry precedes it.
EARLIEST_DATE = date(1949, 10, 1)

T = TypeVar("T")


def _session() -> DbSession:
    # The app's Flask-SQLAlchemy session (core depends on no extension module).
    session: DbSession = current_app.extensions["sqlalchemy"].session
    return session


@contextlib.contextmanager
def refusal_exits() -> Iterator[None]:
    """On a refusal (a ``DomainError``) roll back and exit 1 with its one line; so too
    when the database's lock was not free within ``DATABASE_LOCK_WAIT``."""
    try:
        yield
    except DomainError as exc:
        _session().rollback()
        raise click.ClickException(_one_line(exc)) from exc
    except OperationalError as exc:
        if not is_lock_timeout(exc):
            raise
        _session().rollback()
        raise click.ClickException(
            "The database is busy: its lock was not free within "
            f"{current_app.config['DATABASE_LOCK_WAIT']:g} seconds, so what waited for it "
            "was not written. Run the command again."
        ) from exc


def _one_line(error: DomainError) -> str:
    """A refusal as the command line says it. A field's refusal in the words a form
    shows beside the field ("This field is required.") is led by the field's name, which
    a page shows as its label."""
    fields = [item.get("field") for item in error.errors]
    if len(fields) == 1 and fields[0] and str(error.errors[0].get("message")) == str(error):
        return f"{fields[0]}: {error}"
    return str(error)


def transactional(command: Callable[..., T]) -> Callable[..., T]:
    """Commit when the command returns; on a refusal roll back and exit 1 with one line."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        with refusal_exits():
            result = command(*args, **kwargs)
            _session().commit()
            return result

    return wrapper


def each_in_own_transaction(find: Callable[[], Iterable[T]], process: Callable[[T], Any]) -> int:
    """Process what ``find`` lists, one item per transaction; an item another server
    holds (skipped under its row lock) or that failed is not retried in this run.
    Returns how many items ``process`` did something for (did not return None)."""
    session = _session()
    done, seen = 0, set()
    while items := [i for i in find() if i not in seen]:
        session.rollback()  # end the read; each item gets its own transaction
        for item in items:
            seen.add(item)
            try:
                if process(item) is not None:
                    done += 1
                session.commit()
            except DomainError as exc:
                session.rollback()
                click.echo(f"skipped {item}: {exc}", err=True)
    session.rollback()
    return done


def parse_date(value: str | None, name: str) -> date | None:
    """The date ``YYYY-MM-DD`` given to option ``name``, or None when not given."""
    if value is None:
        return None
    try:
        parsed = date.fromisoformat(value)
        if parsed < EARLIEST_DATE:
            raise ValueError("too early")
        return parsed
    except ValueError as exc:
        raise ValidationFailed(
            "%(name)s must be a date YYYY-MM-DD, not %(value)s.", name=name, value=value
        ) from exc
