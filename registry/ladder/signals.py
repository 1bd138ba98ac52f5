"""Signals of the ladder, so that it never imports the domains that react to it.

``designation_withdrawn`` is sent inside the transaction of a demote or revoke;
receivers act in that same transaction (applications reject the enterprise's open
applications).
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

#: sender: the enterprise; keyword arguments: ``session``, ``actor``, ``reason``.
designation_withdrawn = _signals.signal("ladder-designation-withdrawn")
