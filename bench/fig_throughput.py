"""Figure: throughput of the real local stack (moto server + Chalice local
server + event pump, all on loopback) for two routes: GET /api/pupils?limit=50
and POST /api/groups/{id}/members, with N concurrent clients for T seconds,
each client alternating the two. No goal yet: requests/s and p50/p99 latency.
"""
import random
import re
import threading
import time

CLIENTS, SECONDS = 20, 20.0
QUICK_CLIENTS, QUICK_SECONDS = 2, 2.0
PUPILS, QUICK_PUPILS = 50, 6
PASSWORD = "correct horse battery"
ROUTES = ("list-pupils", "add-member")


def _wait_for_mail(aws_port, to, seconds=30):
    import requests
    deadline = time.time() + seconds
    while time.time() < deadline:
        data = requests.get(f"http://127.0.0.1:{aws_port}/moto-api/data.json", timeout=5).json()
        for message in data.get("ses", {}).get("Message", []):
            if to in message["destinations"]["ToAddresses"]:
                return message
        time.sleep(0.3)
    raise RuntimeError(f"no email to {to} within {seconds}s")


def _setup(base, aws_port, pupils):
    """Sign up, verify, sign in; add pupils and one group. Returns (auth, group_id, pupil_ids)."""
    import requests
    email = "bench@throughput.sch.uk"
    r = requests.post(f"{base}/api/schools", json={"name": "Throughput School", "admin": {
        "first_name": "T", "surname": "Put", "email": email, "password": PASSWORD}}, timeout=30)
    assert r.status_code == 201, r.text
    mail = _wait_for_mail(aws_port, email)
    token = re.search(r"token=([A-Za-z0-9_\-.]+)", mail["body"]).group(1)
    assert requests.post(f"{base}/api/auth/verify", json={"token": token}, timeout=30).status_code == 200
    login = requests.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD}, timeout=30)
    assert login.status_code == 200, login.text
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    rng = random.Random(7)
    with requests.Session() as s:
        s.headers.update(auth)
        ids = []
        for i in range(pupils):
            year = rng.randint(1, 11)
            r = s.post(f"{base}/api/pupils", json={
                "first_name": f"Pupil{i:03d}", "surname": rng.choice(["Smith", "Jones", "Khan", "Ng"]),
                "date_of_birth": f"{2019 - year}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}",
                "gender": rng.choice("MF"), "year_group": str(year)}, timeout=30)
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        r = s.post(f"{base}/api/groups", json={"name": "Bench group", "priority": "normal",
                                               "member_type": "user", "shared": True}, timeout=30)
        assert r.status_code == 201, r.text
        return auth, r.json()["id"], ids


def _client(base, auth, group_id, pupil_ids, stop_at, seed, latencies, errors):
    import requests
    rng = random.Random(seed)
    with requests.Session() as s:
        s.headers.update(auth)
        i = seed % 2  # half the clients start with each route
        while time.perf_counter() < stop_at:
            route = ROUTES[i % 2]
            i += 1
            t = time.perf_counter()
            try:
                if route == "list-pupils":
                    r = s.get(f"{base}/api/pupils?limit=50", timeout=60)
                else:
                    r = s.post(f"{base}/api/groups/{group_id}/members",
                               json={"member_ids": [rng.choice(pupil_ids)], "until": None}, timeout=60)
                ok = r.status_code == 200
            except Exception:  # noqa: BLE001 - counted, not fatal
                ok = False
            elapsed = time.perf_counter() - t
            (latencies if ok else errors)[route].append(elapsed)


def _percentile(values, q):
    if not values:
        return 0.0
    values = sorted(values)
    k = min(len(values) - 1, max(0, int(round(q / 100 * len(values) + 0.5)) - 1))
    return values[k]


def run(quick=False):
    from devstack.__main__ import Stack, free_port
    clients, seconds = (QUICK_CLIENTS, QUICK_SECONDS) if quick else (CLIENTS, SECONDS)
    aws_port, port = free_port(), free_port()
    stack = Stack(aws_port, port, quiet=True)
    try:
        stack.start()
        base = f"http://127.0.0.1:{port}"
        auth, group_id, pupil_ids = _setup(base, aws_port, QUICK_PUPILS if quick else PUPILS)
        latencies = {r: [] for r in ROUTES}
        errors = {r: [] for r in ROUTES}
        started = time.perf_counter()
        stop_at = started + seconds
        threads = [threading.Thread(target=_client, daemon=True,
                                    args=(base, auth, group_id, pupil_ids, stop_at, n, latencies, errors))
                   for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=seconds + 120)
        wall = time.perf_counter() - started
    finally:
        stack.stop()
    out = []
    label = f"{clients} clients, {seconds:g}s"
    total = sum(len(v) for v in latencies.values())
    out.append({"figure": f"local stack requests/s ({label})", "value": round(total / wall, 1),
                "unit": "req/s", "goal": None, "passed": None})
    for route in ROUTES:
        lat = latencies[route]
        out += [
            {"figure": f"{route} requests/s ({label})", "value": round(len(lat) / wall, 1), "unit": "req/s",
             "goal": None, "passed": None},
            {"figure": f"{route} p50 latency ({label})", "value": round(_percentile(lat, 50) * 1000, 1),
             "unit": "ms", "goal": None, "passed": None},
            {"figure": f"{route} p99 latency ({label})", "value": round(_percentile(lat, 99) * 1000, 1),
             "unit": "ms", "goal": None, "passed": None},
        ]
        if errors[route]:
            out.append({"figure": f"{route} failed requests ({label})", "value": len(errors[route]),
                        "unit": "requests", "goal": None, "passed": None})
    return out


if __name__ == "__main__":
    for r in run(quick=True):
        print(r)
