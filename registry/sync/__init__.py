"""Sync with other registries: the change feed and snapshot this registry serves, and the
pull client that mirrors a peer's enterprises and annual reports (API.md "Sync")."""
