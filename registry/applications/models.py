"""Applications for a rung of the ladder, and the reviewers' decisions on them."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, ForeignKey, Index, Integer, LargeBinary, String, Text, text
from sqlalchemy.orm import Mapped, deferred, mapped_column, relationship

from registry.core import clock
from registry.core.db import Model, UtcDateTime, enum_type
from registry.enterprises.models import Enterprise

if TYPE_CHECKING:
    from registry.accounts.models import User


class Kind(enum.StrEnum):
    PROMOTION = "promotion"
    RENEWAL = "renewal"


class State(enum.StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    CHANGES_REQUESTED = "changes_requested"
    IN_NOTICE = "in_notice"
    GRANTED = "granted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


OPEN_STATES = (
    State.DRAFT,
    State.SUBMITTED,
    State.IN_REVIEW,
    State.CHANGES_REQUESTED,
    State.IN_NOTICE,
)
#: Where the applicant side may still take an application back (PRODUCT.md "Applications and
#: review").
WITHDRAWABLE = (State.DRAFT, State.SUBMITTED, State.IN_REVIEW, State.CHANGES_REQUESTED)
_OPEN_SQL = text("state IN ('draft', 'submitted', 'in_review', 'changes_requested', 'in_notice')")


class Application(Model):
    """One application (or nomination) of an enterprise for a tier (PRODUCT.md "Applications and
    review")."""

    __tablename__ = "applications"
    __table_args__ = (
        # One open application per enterprise, enforced by the database.
        Index(
            "uq_applications_open_enterprise",
            "enterprise_id",
            unique=True,
            sqlite_where=_OPEN_SQL,
            postgresql_where=_OPEN_SQL,
        ),
        Index("ix_applications_state_submitted_at_id", "state", "submitted_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    tier: Mapped[str] = mapped_column(ForeignKey("tiers.code"))
    kind: Mapped[Kind] = mapped_column(enum_type(Kind, "kind", 10))
    state: Mapped[State] = mapped_column(enum_type(State, "state", 20), default=State.DRAFT)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    nominated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # Copied from the tier at submission: later edits apply to later applications.
    approvals_required: Mapped[int | None] = mapped_column(Integer)
    notice_days: Mapped[int | None] = mapped_column(Integer)
    eligibility: Mapped[dict | None] = mapped_column(JSON)
    # The champion rung's route ("srdi" or "single_champion"); null for other tiers.
    route: Mapped[str | None] = mapped_column(String(20))
    # The thresholds the snapshot was judged by (its criteria version's, as they were at
    # the submission: a later amendment of that version changes nothing here).
    criteria: Mapped[dict | None] = mapped_column(JSON)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notice_started_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    notice_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime, index=True)
    closed_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    enterprise: Mapped[Enterprise] = relationship()
    decisions: Mapped[list[Decision]] = relationship(
        back_populates="application", order_by="Decision.id"
    )

    @property
    def is_open(self) -> bool:
        return self.state in OPEN_STATES

    def visible_to(self, user: User) -> bool:
        """Reviewers see every application; an enterprise's users see their own."""
        return user.is_reviewer or user.enterprise_id == self.enterprise_id

    def applicant_side(self, user: User) -> bool:
        """Who may edit, submit and withdraw it: the enterprise's users for its own
        application, any reviewer for a nomination (PRODUCT.md "Applications and review")."""
        if self.nominated_by is not None:
            return user.is_reviewer
        return not user.is_reviewer and user.enterprise_id == self.enterprise_id

    def approvals(self) -> list[Decision]:
        """The approvals that count: not voided by a later request for changes."""
        return [d for d in self.decisions if d.decision == "approve" and not d.void]


class Decision(Model):
    """A reviewer's approve / reject / request_changes, with its comment."""

    __tablename__ = "decisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reviewer_name: Mapped[str] = mapped_column(String(254))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str | None] = mapped_column(Text)
    manual_checks: Mapped[dict | None] = mapped_column(JSON)
    innovation_score: Mapped[int | None] = mapped_column(Integer)
    # An approval made void by a later request for changes (PRODUCT.md "Applications and review").
    void: Mapped[bool] = mapped_column(default=False)
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    application: Mapped[Application] = relationship(back_populates="decisions")


class Attachment(Model):
    """A file supporting an application, stored in the database (PRODUCT.md "Applications and
    review").

    ``content_type`` is what the content was found to be, never what the client said;
    ``label`` is the client's file name cleaned for display only: downloads are named
    from the id and the detected type.
    """

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    label: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    extension: Mapped[str] = mapped_column(String(10))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = deferred(mapped_column(LargeBinary, nullable=False))
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    application: Mapped[Application] = relationship()

    @property
    def download_name(self) -> str:
        return f"attachment-{self.id}.{self.extension}"


class ObjectionState(enum.StrEnum):
    OPEN = "open"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class Objection(Model):
    """An objection to an application in its public notice. Name, contact and address
    are shown to reviewers only; the enterprise sees the grounds and the outcome."""

    __tablename__ = "objections"
    __table_args__ = (
        Index("ix_objections_client_address_created_at", "client_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("applications.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    contact: Mapped[str] = mapped_column(String(200))
    grounds: Mapped[str] = mapped_column(Text)
    state: Mapped[ObjectionState] = mapped_column(
        enum_type(ObjectionState, "objection_state", 10), default=ObjectionState.OPEN, index=True
    )
    resolution_comment: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    client_address: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=clock.now)

    application: Mapped[Application] = relationship()
