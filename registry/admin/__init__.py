"""Admin pages that span domains: users and roles (views.py), tier settings and the
plan's period (tier_views.py), API tokens (tokens.py), the audit log (views.py)."""
