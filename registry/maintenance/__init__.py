"""Keeping an installation running (PRODUCT.md §9): the deploy check; backup and
restore to come."""
