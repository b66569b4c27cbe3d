"""Enrolment rules that need no database."""

from __future__ import annotations

from datetime import date


def school_year_problem(school_year: str, enrolled_on: date) -> str | None:
    """A school year "2025-2026" runs from August of its first year to July of its second."""
    start, end = (int(part) for part in school_year.split("-"))
    if end != start + 1:
        return f"school year {school_year} must be two consecutive years, e.g. {start}-{start + 1}"
    if not date(start, 8, 1) <= enrolled_on <= date(end, 7, 31):
        return (
            f"enrolment date {enrolled_on.isoformat()} is outside school year {school_year} "
            f"(1 August {start} to 31 July {end})"
        )
    return None
