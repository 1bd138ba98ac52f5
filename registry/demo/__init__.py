"""``flask registry demo``: plausible demo data written through the real operations.

``plan`` (the ladder plan and run parameters), ``areas`` and ``words`` (where and what
the enterprises are), ``enterprises`` (one batch of enterprises and annual reports),
``figures`` (their figures), ``history`` (the ladder's last 24 months), ``pipeline``
(batches generated in worker processes and written), ``applications`` and
``applicants`` (applications in every state and the demo users), ``cli`` (the command).
"""
