"""Bulk imports of CSV and XLSX files (PRODUCT.md "Operation"): ``operations`` (read, recognise,
check, apply: all rows or none), ``rows`` and ``designations`` (the kinds of record and
their row checks), ``models`` (the runs), ``views`` (the admin page), ``cli`` (the
``import`` command)."""
