"""Rules of the weekly work schedule (lịch công tác), free of IO.

A schedule covers one ISO week (Monday to Sunday). Each item is on a day of that week, at a
time, with its content, the leader presiding, the participants and the place. Items are kept
in day and time order, as the schedule is read.
"""

from __future__ import annotations

from datetime import date, time, timedelta

from pydantic import BaseModel, ConfigDict, Field

WEEKDAYS_VI = ("Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ nhật")


class ScheduleItem(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    day: date
    start: time = Field(description="Local time (Vietnam), e.g. 08:00")
    end: time | None = None
    content: str = Field(min_length=1, max_length=2000)
    presiding: str | None = Field(default=None, max_length=300, description="Leader presiding")
    participants: str | None = Field(default=None, max_length=2000)
    place: str | None = Field(default=None, max_length=500)


def week_start(day: date) -> date:
    """The Monday of the ISO week that holds `day`."""
    return day - timedelta(days=day.weekday())


def check_items(monday: date, items: list[ScheduleItem]) -> list[tuple[str, str]]:
    """Problems as (field path, message): an item outside the week, an end before its start."""
    problems = []
    sunday = monday + timedelta(days=6)
    for index, item in enumerate(items):
        if not monday <= item.day <= sunday:
            problems.append(
                (f"items[{index}].day", f"{item.day} is outside the week {monday}–{sunday}")
            )
        if item.end is not None and item.end <= item.start:
            problems.append((f"items[{index}].end", "the end is not after the start"))
    return problems


def ordered(items: list[ScheduleItem]) -> list[ScheduleItem]:
    return sorted(items, key=lambda item: (item.day, item.start, item.content))


def weekday_label(day: date) -> str:
    """'Thứ Hai, 02/03/2026'"""
    return f"{WEEKDAYS_VI[day.weekday()]}, {day:%d/%m/%Y}"
