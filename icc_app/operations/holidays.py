"""Days that move cannabis retail: 4/20 and the days around it, Green Wednesday (the day before US Thanksgiving,
the busiest day of the year for many stores), July 4th, the big closing/low days (Thanksgiving, Christmas), plus
state holidays where stores see a difference. Pure dates: the forecast engine learns how much each kind lifts
(or sinks) a given series from that series' own history; nothing here says by how much."""

from __future__ import annotations

from datetime import date, timedelta

# kind -> a short human label (shown beside a forecast that was adjusted for it)
KINDS = {
    "4_20": "4/20",
    "4_20_window": "Days around 4/20",
    "green_wednesday": "Green Wednesday",
    "july_4": "July 4th",
    "thanksgiving": "Thanksgiving",
    "christmas": "Christmas",
    "new_years_eve": "New Year's Eve",
    "state": "State holiday",
}


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday (0 = Monday) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = (date(year, month + 1, 1) if month < 12 else date(year + 1, 1, 1)) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def thanksgiving(year: int) -> date:
    return _nth_weekday(year, 11, 3, 4)  # fourth Thursday of November


def green_wednesday(year: int) -> date:
    return thanksgiving(year) - timedelta(days=1)


# State holidays with a known effect on store traffic (days off for state workers, local celebrations). Kept short
# on purpose: a day only matters if it is in the state's calendar and the series' history shows a difference.
def _state_days(state: str, year: int) -> list[date]:
    days = {
        "CA": [date(year, 3, 31)],  # Cesar Chavez Day
        "CO": [date(year, 3, 31), _nth_weekday(year, 8, 0, 1)],  # Cesar Chavez Day; Colorado Day observed
        "MA": [_nth_weekday(year, 4, 0, 3)],  # Patriots' Day
        "ME": [_nth_weekday(year, 4, 0, 3)],  # Patriots' Day
        "IL": [date(year, 2, 12), _nth_weekday(year, 3, 0, 1)],  # Lincoln's Birthday; Casimir Pulaski Day
        "NV": [_nth_weekday(year, 10, 4, -1)],  # Nevada Day (last Friday of October)
        "NM": [thanksgiving(year) + timedelta(days=1)],  # Presidents' Day observed after Thanksgiving
        "WA": [thanksgiving(year) + timedelta(days=1)],  # Native American Heritage Day
        "OR": [],
        "AZ": [],
        "MT": [],
    }
    return days.get((state or "").upper(), [])


def holiday_calendar(start: date, end: date, state: str | None = None) -> dict[date, str]:
    """Every holiday day between start and end (inclusive) -> its kind. A day with two kinds keeps the first one
    listed here (4/20 before its window, Green Wednesday before a state day)."""
    calendar: dict[date, str] = {}
    for year in range(start.year, end.year + 1):
        marks: list[tuple[date, str]] = [(date(year, 4, 20), "4_20")]
        marks += [(date(year, 4, 20) + timedelta(days=d), "4_20_window") for d in (-2, -1, 1)]
        marks += [(green_wednesday(year), "green_wednesday"), (date(year, 7, 4), "july_4"),
                  (thanksgiving(year), "thanksgiving"), (date(year, 12, 25), "christmas"),
                  (date(year, 12, 31), "new_years_eve")]
        marks += [(day, "state") for day in _state_days(state or "", year)]
        for day, kind in marks:
            if start <= day <= end and day not in calendar:
                calendar[day] = kind
    return calendar
