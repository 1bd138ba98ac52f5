"""Read-only views across domains: the quota dashboard and breakdowns (stats)."""
