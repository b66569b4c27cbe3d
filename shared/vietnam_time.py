"""Vietnam's civil time, for dates that are Vietnamese calendar dates (registers, school days,
"not in the future"). Vietnam keeps UTC+7 all year, without daylight saving time, so a fixed
offset is exact and needs no time-zone database."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")


def now_in_vietnam() -> datetime:
    return datetime.now(VIETNAM_TIME)


def today_in_vietnam() -> date:
    return now_in_vietnam().date()
