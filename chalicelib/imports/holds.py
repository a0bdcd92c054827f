"""When a drop stops for a person: pure rules, no AWS.

A drop runs hands-off unless it would do more than a school expects of a
night: mark more than ``leaver_threshold`` % of those on roll as leavers,
or change more than ``update_threshold`` % of them (a file of the wrong
year, a mapping gone wrong), or end more than ``leaver_threshold`` % of its
class groups (a bundle exported for one year group, or before the
timetable was in); or the school holds every drop
(``drop_mode: review``). A held drop has written nothing; a person approves
or discards it.
"""

DEFAULT_LEAVER_THRESHOLD = 10
DEFAULT_UPDATE_THRESHOLD = 75


def _setting(value, default):
    return default if value is None else value


def hold_reason(school, summary):
    """{"code", "message"} when a validated drop must wait for a person, else None."""
    if (school.drop_mode or "auto") == "review":
        return {"code": "review_mode", "message": "Your school holds every drop for a person to approve."}
    on_roll = int(summary.get("on_roll") or 0)
    leave, changed = int(summary.get("leave") or 0), int(summary.get("update") or 0)
    leaver_limit = _setting(school.leaver_threshold, DEFAULT_LEAVER_THRESHOLD)
    update_limit = _setting(school.update_threshold, DEFAULT_UPDATE_THRESHOLD)
    if leave and leave * 100 > leaver_limit * on_roll:
        return {"code": "too_many_leavers",
                "message": f"This file would mark {leave} of {on_roll} as leavers, more than your school's "
                           f"{leaver_limit}%. Check the file is complete, then approve or discard it."}
    if on_roll and changed * 100 > update_limit * on_roll:
        return {"code": "too_many_updates",
                "message": f"This file would change {changed} of {on_roll}, more than your school's "
                           f"{update_limit}%. Check it is this year's file, then approve or discard it."}
    return None


def classes_hold_reason(school, classes):
    """{"code", "message"} when a bundle drop would end more of the school's
    class groups than its leaver threshold allows, else None."""
    ended, live = int((classes or {}).get("ended") or 0), int((classes or {}).get("live") or 0)
    limit = _setting(school.leaver_threshold, DEFAULT_LEAVER_THRESHOLD)
    if ended and ended * 100 > limit * live:
        return {"code": "too_many_classes_ended",
                "message": f"This bundle would end {ended} of your {live} class groups, more than your school's "
                           f"{limit}%. Check the export holds every class, then approve or discard it."}
    return None
