"""Signals other domains listen to, so that enterprises never import them.

``status_changed`` is sent inside the transaction that changes an enterprise's status;
receivers do their part in that same transaction (the ladder ends the designation).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the enterprise; keyword arguments: ``session``, ``actor``, ``status``.
status_changed = _signals.signal("enterprise-status-changed")
