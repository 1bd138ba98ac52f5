"""Admin pages that span domains: users and roles, tier settings, the audit log."""
