from chalicelib.accounts import credentials as c


def test_short_and_common_passwords_are_weak():
    assert c.password_problem("short").code == "weak_password"
    assert c.password_problem("Password123").code == "weak_password"
    assert c.password_problem("aaaaaaaaaaaa").code == "weak_password"
    assert c.password_problem("head@oak.sch.uk", "Head@Oak.sch.uk").code == "weak_password"
    # built from the school's name: zxcvbn alone would pass it (score 3)
    weak = c.password_problem("OakPrimary2026!", "Sam", "Smith", "sam@oak.sch.uk", "Oak Primary")
    assert weak.code == "weak_password" and "school" in weak.message
    assert c.password_problem("OakPrimary2026!") is None
    assert "common" in c.password_problem("password2026").message.lower()
    assert c.password_problem("correct horse battery") is None


def test_email_checks():
    assert c.email_problem("").code == "required"
    for bad in ("nobody", "a@b", "a b@c.org", "@x.org", "a@.org"):
        assert c.email_problem(bad).code == "invalid_email", bad
    assert c.email_problem("ms.smith@oak-academy.sch.uk") is None
    assert c.normalise_email("  Head@Oak.SCH.uk ") == "head@oak.sch.uk"


def test_passwords_are_hashed_slowly_and_verified():
    h = c.hash_password("correct horse battery")
    assert h.startswith("$argon2id$") and "correct" not in h
    assert c.verify_password(h, "correct horse battery")
    assert not c.verify_password(h, "wrong horse battery")
    assert not c.verify_password(None, "anything at all")


def test_tokens_are_random_long_and_stored_only_as_hash():
    a, b = c.new_token(), c.new_token()
    assert a != b and len(a) >= 43  # 32 bytes, base64url
    assert c.token_hash(a) != a and len(c.token_hash(a)) == 64


def test_session_token_ids_are_parsed_strictly():
    token = c.new_token("school1", "user1")
    assert c.token_ids(token) == ("school1", "user1")
    assert c.token_ids("school1.user1.short") is None
    assert c.token_ids("garbage") is None
    assert c.token_ids("a.b.c.d") is None
    assert c.token_ids("sch ool.user." + "x" * 43) is None
