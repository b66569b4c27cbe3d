"""`eduhub identity import-legacy`: one registry from the two legacy sector databases.

Since 1 July 2025 Hải Dương is part of Hải Phòng; both provinces' sector databases export their
people with their own local IDs, and many people appear in both. The import runs in phases:

1. :mod:`rows` reads each export (CSV or .xlsx) and validates every row into a ``LegacyRow`` or
   one or more ``RowError`` (the rest of the file still goes in);
2. :mod:`plan` matches the valid rows of both sources and decides, without touching the
   database, which new persons to create, which legacy IDs merge into them and which pairs a
   person has to review;
3. :mod:`load` applies the plan in batches (COPY, one transaction per batch, re-runnable);
4. :mod:`report` writes the legacy-ID map, the rejected rows, the review queue and the
   reconciliation counts.

:mod:`synthetic` generates realistic exports with a known truth for tests and the benchmark;
:mod:`cli` holds the click commands.
"""
