"""Queue messages parsed once (imports/messages.py): pure, no AWS."""
from chalicelib.core import config
from chalicelib.imports import messages
from chalicelib.imports.messages import Action, Drop, Step, Upload

KINDS = ("pupils", "staff", "machines")


def s3_record(key, bucket=None, event="ObjectCreated:Post", etag="abc", version=None, at="2026-12-01T02:00:00.000Z"):
    obj = {"key": key, "size": 12}
    if etag:
        obj["eTag"] = etag
    if version:
        obj["versionId"] = version
    return {"eventName": event, "eventTime": at,
            "s3": {"bucket": {"name": bucket or config.bucket_name()}, "object": obj}}


def test_an_upload_and_a_drop_are_told_apart_by_their_keys():
    found = messages.parse({"Records": [s3_record("uploads/sch1/imp1.csv"),
                                        s3_record("drop/sch1/pupils/nightly%20file.csv")]}, KINDS)
    assert found == [Upload("uploads/sch1/imp1.csv", "abc", 12, "sch1", "imp1"),
                     Drop(config.bucket_name(), "drop/sch1/pupils/nightly file.csv", "abc", 12,
                          "2026-12-01T02:00:00.000Z", "sch1", "pupils")]
    assert found[1].filename == "nightly file.csv"


def test_what_is_not_ours_is_left_out():
    records = [s3_record("uploads/sch1/imp1.csv", bucket="someone-elses"),
               s3_record("uploads/sch1/imp1.csv", event="ObjectRemoved:Delete"),
               s3_record("uploads/sch1/deeper/imp1.csv"), s3_record("uploads/sch1/imp1.xlsx"),
               s3_record("drop/sch1/timetables/file.csv"), s3_record("drop/sch1/pupils/"),
               s3_record("staging/sch1/imp1.jsonl")]
    assert messages.parse({"Records": records}, KINDS) == []
    assert messages.parse({"Event": "s3:TestEvent", "Bucket": config.bucket_name()}, KINDS) == []


def test_a_drop_has_the_same_import_id_on_every_delivery_and_a_new_one_for_a_new_object():
    first = messages.parse({"Records": [s3_record("drop/sch1/pupils/f.csv")]}, KINDS)[0]
    again = messages.parse({"Records": [s3_record("drop/sch1/pupils/f.csv")]}, KINDS)[0]
    changed = messages.parse({"Records": [s3_record("drop/sch1/pupils/f.csv", etag="def")]}, KINDS)[0]
    later = messages.parse({"Records": [s3_record("drop/sch1/pupils/f.csv", at="2026-12-02T02:00:00Z")]},
                           KINDS)[0]
    assert first.import_id == again.import_id
    assert len({first.import_id, changed.import_id, later.import_id}) == 3
    assert first.import_id < later.import_id  # time-ordered: newest last in a forward query


def test_an_object_without_an_etag_is_known_by_its_version():
    """The worker and the last-delivery failure path read one parse: both
    name the same import even when S3 sends a versionId and no ETag (the
    file is then read unpinned: there is no ETag to pin it to)."""
    record = s3_record("drop/sch1/staff/f.csv", etag=None, version="v1")
    (drop,) = messages.parse({"Records": [record]}, KINDS)
    (other,) = messages.parse({"Records": [s3_record("drop/sch1/staff/f.csv", etag=None, version="v2")]}, KINDS)
    assert drop.etag == "" and drop.version == "v1" and drop.import_id != other.import_id


def test_a_step_round_trips_and_a_malformed_one_is_ignored():
    step = Step(Action.COMMIT, "sch1", "imp1", 3)
    assert messages.parse(step.body(), KINDS) == [step]
    assert messages.parse({"action": "explode", "school_id": "s", "import_id": "i", "run": 1}, KINDS) == []
    assert messages.parse({"action": "validate"}, KINDS) == []
    assert messages.parse({}, KINDS) == []
