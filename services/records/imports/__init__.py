"""Bulk imports of records from CSV or .xlsx files, with a result per row (see framework.py).

Importing this package registers every row kind in `framework.ROW_KINDS`; a new kind's module
is added to the list below.
"""

from services.records.imports import framework, health_rows, school_rows

__all__ = ["framework", "health_rows", "school_rows"]
