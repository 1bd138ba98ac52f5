"""The type of the ``session`` argument that queries and operations take."""

from typing import Any, TypeAlias

from sqlalchemy.orm import Session, scoped_session

#: A plain Session (a command's, a test's, a snapshot's own) or Flask-SQLAlchemy's
#: ``db.session``, the scoped proxy that stands for the current request's Session.
DbSession: TypeAlias = Session | scoped_session[Any]
