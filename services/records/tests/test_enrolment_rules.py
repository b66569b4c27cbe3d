from datetime import date

from services.records.domain.enrolment import school_year_problem


def test_enrolment_date_must_fall_in_the_school_year():
    assert school_year_problem("2025-2026", date(2025, 9, 5)) is None
    assert school_year_problem("2025-2026", date(2026, 7, 31)) is None
    assert school_year_problem("2025-2026", date(2025, 7, 31)) == (
        "enrolment date 2025-07-31 is outside school year 2025-2026 (1 August 2025 to 31 July 2026)"
    )
    assert school_year_problem("2025-2027", date(2025, 9, 5)) == (
        "school year 2025-2027 must be two consecutive years, e.g. 2025-2026"
    )
