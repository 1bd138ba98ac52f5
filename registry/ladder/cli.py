"""``flask --app wsgi registry grant | demote | revoke | set-quota``: the ladder's
designations and quotas, set by hand (audited, via="cli")."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from registry.core.cli import CLI_ACTOR, parse_date, transactional
from registry.core.errors import ValidationFailed
from registry.enterprises import queries as enterprise_queries
from registry.extensions import db
from registry.ladder import operations as ladder
from registry.ladder import queries as ladder_queries

#: The largest quota an integer column holds.
QUOTA_MAX = 2**31 - 1


def tier_code(value: str) -> str:
    """``value`` if it is the code of a tier of the registry, else a refusal naming them."""
    codes = ladder_queries.tier_ranks(db.session)
    if value not in codes:
        raise ValidationFailed(
            "Unknown tier %(tier)s (one of %(codes)s).",
            tier=value,
            codes=", ".join(sorted(codes, key=codes.__getitem__)),
        )
    return value


@click.command("grant")
@click.argument("uscc")
@click.argument("tier")
@click.option("--reason", required=True)
@click.option("--since", help="YYYY-MM-DD (default: today).")
@click.option("--number", help="The registration number already issued.")
@with_appcontext
@transactional
def grant_command(uscc: str, tier: str, reason: str, since: str | None, number: str | None) -> None:
    """Record a designation (e.g. a list moved in from elsewhere): the quota applies, the
    prerequisite rung is not required."""
    enterprise = enterprise_queries.by_uscc(db.session, uscc)
    event = ladder.grant_tier(
        db.session,
        enterprise,
        tier_code(tier),
        actor=CLI_ACTOR,
        reason=reason,
        since=parse_date(since, "--since"),
        number=number,
    )
    click.echo(f"granted {event.to_tier} to {enterprise.uscc}: {event.registration_number}")


@click.command("demote")
@click.argument("uscc")
@click.argument("to_tier")
@click.option("--reason", required=True)
@with_appcontext
@transactional
def demote_command(uscc: str, to_tier: str, reason: str) -> None:
    """Move an enterprise down to TO_TIER (the quota of TO_TIER applies)."""
    enterprise = enterprise_queries.by_uscc(db.session, uscc)
    event = ladder.demote(
        db.session, enterprise, tier_code(to_tier), actor=CLI_ACTOR, reason=reason
    )
    click.echo(f"demoted {enterprise.uscc} to {event.to_tier}: {event.registration_number}")


@click.command("revoke")
@click.argument("uscc")
@click.option("--reason", required=True)
@click.option("--ban-until", help="YYYY-MM-DD: no application until then.")
@with_appcontext
@transactional
def revoke_command(uscc: str, reason: str, ban_until: str | None) -> None:
    """Take an enterprise off the ladder, optionally banning applications until a date."""
    enterprise = enterprise_queries.by_uscc(db.session, uscc)
    ladder.revoke(
        db.session,
        enterprise,
        actor=CLI_ACTOR,
        reason=reason,
        ban_until=parse_date(ban_until, "--ban-until"),
    )
    click.echo(f"revoked the designation of {enterprise.uscc}")


@click.command("set-quota")
@click.argument("tier")
@click.argument("quota", type=click.IntRange(min=0, max=QUOTA_MAX))
@click.option("--reason", required=True)
@with_appcontext
@transactional
def set_quota_command(tier: str, quota: int, reason: str) -> None:
    """Set a tier's quota (audited). Lowering it below occupancy demotes nobody."""
    updated = ladder.set_quota(db.session, tier_code(tier), quota, actor=CLI_ACTOR, reason=reason)
    click.echo(f"quota of {updated.code} is now {updated.quota}")


#: The commands ``create_app`` adds to the ``flask registry`` group.
COMMANDS = (grant_command, demote_command, revoke_command, set_quota_command)
