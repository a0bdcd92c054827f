"""The pure rules of a rollover: the order of year groups, which academic
year a day falls in, and what becomes of each pupil. No AWS."""
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

#: the year groups in the order pupils move through them
YEAR_ORDER = ("N1", "N2", "R", *(str(n) for n in range(1, 15)))
UNDO_DAYS = 14


def academic_year(day):
    """The academic year a rollover on ``day`` moves pupils into: one made
    from June on rolls into the year that starts that September."""
    start = day.year if day.month >= 6 else day.year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def next_year(year_group, final_year):
    """The year group after ``year_group``, or None: they leave (the final
    year, or any year after it). A year group we don't know stays put."""
    if year_group not in YEAR_ORDER:
        return year_group
    if final_year in YEAR_ORDER and YEAR_ORDER.index(year_group) >= YEAR_ORDER.index(final_year):
        return None
    position = YEAR_ORDER.index(year_group)
    return YEAR_ORDER[position + 1] if position + 1 < len(YEAR_ORDER) else None


@dataclass(frozen=True)
class Move:
    """What the rollover does to one pupil: before and after (``after`` has
    status "left" and a left_on for a leaver)."""
    pupil_id: str
    before: dict
    after: dict

    @property
    def leaves(self):
        return self.after.get("status") == "left"


def move(pupil_id, before, final_year, keep_registration_groups, today):
    """The Move for one active pupil (``before``: year_group,
    registration_group, status, left_on, left_by)."""
    after = dict(before)
    year = next_year(before["year_group"], final_year)
    if year is None:
        after.update(status="left", left_on=today.isoformat(), left_by="rollover")
    else:
        after["year_group"] = year
    if not keep_registration_groups:
        after["registration_group"] = None
    return Move(pupil_id, before, after)


def preview(moves):
    """Counts by year group: {"moves": {"5→6": n}, "leaving": {"6": n}}."""
    moving, leaving = {}, {}
    for m in moves:
        frm = m.before["year_group"]
        if m.leaves:
            leaving[frm] = leaving.get(frm, 0) + 1
        elif m.after["year_group"] != frm:
            key = f"{frm}→{m.after['year_group']}"
            moving[key] = moving.get(key, 0) + 1
    order = {y: i for i, y in enumerate(YEAR_ORDER)}
    return {"moves": dict(sorted(moving.items(), key=lambda kv: order.get(kv[0].split("→")[0], 99))),
            "leaving": dict(sorted(leaving.items(), key=lambda kv: order.get(kv[0], 99)))}


def today_in(timezone_name, now):
    """The school's date at ``now`` (a rollover's day is the school's day)."""
    try:
        zone = ZoneInfo(timezone_name or "Europe/London")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/London")
    return datetime.fromtimestamp(now, zone).date()


def parse_day(text):
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        return None
