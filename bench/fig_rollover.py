"""Figure: the academic-year rollover's DynamoDB calls, counted with a
botocore hook from the request to the worker's last write: at most 250 for
2,000 pupils, and per pupil the same (within 10%) at 50,000."""

GOAL_2000 = 250
LINEARITY = 1.10


def _school_of(client, pupils):
    """A primary of ``pupils`` pupils (R to 6), written straight to the table."""
    import time

    from chalicelib.core.db import batch_put
    from chalicelib.membership import rules, system
    from chalicelib.roster.pupils import grouping, new_pupil
    me = client.call("GET", "/api/me").data
    school_id = me["school"]["id"]
    years = ("R", "1", "2", "3", "4", "5", "6")
    now = time.time()
    made = []
    for n in range(pupils):
        year = years[n % len(years)]
        p = new_pupil(school_id, {"first_name": f"P{n}", "surname": f"S{n}", "date_of_birth": "2016-01-01",
                                  "year_group": year, "registration_group": f"{year}A"}, now)
        p.version = 1
        made.append(p)
    batch_put(made)
    system.apply(school_id, rules.merge(*(rules.pupil_deltas({}, grouping(p)) for p in made)))
    assert client.call("PATCH", "/api/settings", {"final_year": "6"}).status_code == 200


def _calls(pupils):
    from bench.harness import Calls, drain, signed_in_app
    with signed_in_app() as (client, pump):
        _school_of(client, pupils)
        calls = Calls()
        try:
            r = client.call("POST", "/api/rollover", {})
            assert r.status_code == 202, r.body
            drain(pump)
            done = client.call("GET", "/api/rollover").data["items"][0]
            assert done["status"] == "applied", done
            return len(calls.dynamodb())
        finally:
            calls.close()


def run(quick=False):
    from bench.harness import environment
    environment()
    small, big = (200, 1000) if quick else (2000, 50000)
    at_small, at_big = _calls(small), _calls(big)
    per_small, per_big = at_small / small, at_big / big
    return [{"figure": f"DynamoDB calls: rollover of {small:,} pupils", "value": at_small, "unit": "calls",
             "goal": f"<= {GOAL_2000} (at 2,000)", "passed": None if quick else at_small <= GOAL_2000},
            {"figure": f"rollover calls per pupil, {big:,} vs {small:,}", "value": round(per_big / per_small, 3),
             "unit": "x", "goal": f"<= {LINEARITY}", "passed": per_big / per_small <= LINEARITY}]
