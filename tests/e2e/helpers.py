"""Shared steps of the end-to-end tests."""
import re

import requests

from tests.e2e.test_local_stack import PASSWORD, wait_for_mail


def school_token(stack, email, name="Oak Primary", first_name="Olu"):
    """Sign a school up through the API, verify it from the emailed link, sign
    in; returns the bearer token."""
    base = f"http://127.0.0.1:{stack.port}"
    r = requests.post(f"{base}/api/schools", json={"name": name, "admin": {
        "first_name": first_name, "surname": "Head", "email": email, "password": PASSWORD}})
    assert r.status_code == 201, r.text
    mail = wait_for_mail(stack, email)
    token = re.search(r"token=([A-Za-z0-9_\-.]+)", mail["body"]).group(1)
    assert requests.post(f"{base}/api/auth/verify", json={"token": token}).status_code == 200
    login = requests.post(f"{base}/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()["token"]
