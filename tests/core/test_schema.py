from chalicelib.core import schema as s


def codes(errors):
    return {(e.field, e.code) for e in errors}


SCHEMA = s.obj(["name", "admin"], name=s.string(5),
               admin=s.obj(["email"], email=s.string(), age=s.integer()),
               tags=s.array(s.string(), maxItems=2), kind=s.string(enum=["a", "b"]),
               note=s.string(nullable=True))


def test_valid_body_has_no_errors():
    assert s.check(SCHEMA, {"name": "Oak", "admin": {"email": "x"}, "note": None}) == []


def test_required_missing_and_blank_are_reported_with_their_path():
    assert codes(s.check(SCHEMA, {"name": "  ", "admin": {}})) == {
        ("name", "required"), ("admin.email", "required")}


def test_types_lengths_and_enums():
    errors = s.check(SCHEMA, {"name": "toolong", "admin": {"email": 5, "age": True},
                              "tags": ["a", "b", "c"], "kind": "z"})
    assert codes(errors) == {("name", "too_long"), ("admin.email", "invalid_type"),
                             ("admin.age", "invalid_type"), ("tags", "too_long"),
                             ("kind", "invalid_choice")}


def test_null_where_not_nullable():
    assert codes(s.check(SCHEMA, {"name": "a", "admin": {"email": "x"}, "kind": None})) == {
        ("kind", "invalid_type")}
