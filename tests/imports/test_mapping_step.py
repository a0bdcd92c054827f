"""The mapping step (issue 18). Date order per column: a column whose values
read only month first says so and is never read so unconfirmed; the order
confirmed is used for every row, a fix, and the school's drops. Columns
whose headers say nothing are suggested by their values, for a person."""
import boto3

from chalicelib.core import config
from tests.imports.conftest import data, drain

SDS = "pupils_sds_month_first.csv"


def birth_dates(api):
    return {p["first_name"]: p["date_of_birth"] for p in api.all_pages("/api/pupils")}


def put_mapping(api, imp, date_orders=None, **extra):
    body = {"mapping": imp["suggested_mapping"], **({"date_orders": date_orders} if date_orders is not None else {})}
    return api.put(f"/api/imports/{imp['id']}/mapping", {**body, **extra})


def test_a_month_first_column_says_so_and_must_be_confirmed(api, importer):
    imp = importer.upload("pupils", data(SDS))
    columns = {c["name"]: c for c in imp["columns"]}
    assert columns["Birthdate"]["date_order"] == "month_first" and columns["Birthdate"]["date_example"] == "12/19/2013"
    assert "date_order" not in columns["Grade"] and "date_order" not in columns["Username"]
    assert imp["suggested_mapping"]["Birthdate"] == "date_of_birth"
    unconfirmed = put_mapping(api, imp)
    assert unconfirmed.status_code == 422
    assert [(e["field"], e["code"]) for e in unconfirmed.data["errors"]] == [
        ("date_orders.Birthdate", "date_order_unconfirmed")]
    assert importer.get(imp["id"])["status"] == "mapping"  # nothing started
    for bad, code in (({"Grade": "month_first"}, "not_a_date_column"), ({"Nope": "iso"}, "unknown_column"),
                      ({"Birthdate": "sideways"}, "invalid_choice")):
        r = put_mapping(api, imp, {**bad, "Birthdate": "month_first"} if "Birthdate" not in bad else bad)
        assert r.status_code == 422 and code in [e["code"] for e in r.data["errors"]], (bad, r.body)
    assert put_mapping(api, imp, {"Birthdate": "month_first"}).status_code == 200
    drain(importer.pump)
    checked = importer.get(imp["id"])
    assert checked["status"] == "review" and checked["summary"]["valid"] == 7, checked
    assert checked["date_orders"] == {"Birthdate": "month_first"}
    importer.commit(checked)
    assert birth_dates(api) == {"Arjun": "2013-12-19", "Bisi": "2014-01-31", "Chen": "2012-10-13",
                                "Dafydd": "2013-03-25", "Ella": "2011-11-30", "Farah": "2014-04-02",
                                "Greta": "2011-06-15"}


def test_read_day_first_the_month_first_rows_are_refused_and_a_fix_reads_the_columns_order(api, importer):
    imp = importer.upload("pupils", data(SDS))
    assert put_mapping(api, imp, {"Birthdate": "day_first"}).status_code == 200
    drain(importer.pump)
    checked = importer.get(imp["id"])
    assert (checked["summary"]["valid"], checked["summary"]["errors"]) == (2, 5)
    assert {r["errors"][0]["code"] for r in importer.rows(checked)} == {"invalid_date"}


def test_a_fix_is_read_in_the_order_its_column_was_confirmed(api, importer):
    imp = importer.upload("pupils", data(SDS) + b"S2008,SCH1,hb@example.sch.uk,Hana,Berg,7,13/45/2013,F\r\n")
    assert put_mapping(api, imp, {"Birthdate": "month_first"}).status_code == 200
    drain(importer.pump)
    (refused,) = importer.rows(importer.get(imp["id"]))
    assert refused["row"] == 9 and "month first" in refused["errors"][0]["message"]
    fixed = api.patch(f"/api/imports/{imp['id']}/rows/9", {"values": {"date_of_birth": "12/20/2013"}})
    assert fixed.status_code == 200 and fixed.data["status"] == "fixed", fixed.body
    importer.commit(importer.get(imp["id"]))
    assert birth_dates(api)["Hana"] == "2013-12-20"


def test_an_ambiguous_column_is_read_day_first_without_a_question(api, importer):
    csv = b"First name,Surname,Date of birth,Year group\nAnn,Lee,4/2/2014,7\nBen,Ray,2014-06-01,7\n"
    imp = importer.upload("pupils", csv)
    assert {c["name"]: c.get("date_order") for c in imp["columns"]}["Date of birth"] == "ambiguous"
    importer.commit(importer.map(imp))
    assert birth_dates(api) == {"Ann": "2014-02-04", "Ben": "2014-06-01"}


def test_a_drop_reads_dates_as_the_school_confirmed_and_never_month_first_unasked(api, importer, pump, admin):
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/first.csv", Body=data(SDS))
    drain(pump)
    unasked = api.get("/api/imports").data["items"][0]
    assert unasked["status"] == "failed" and unasked["error"]["code"] == "date_order_unconfirmed", unasked
    assert api.get("/api/pupils").data["items"] == []  # neither read month first nor day first: asked
    imp = importer.upload("pupils", data(SDS))
    assert put_mapping(api, imp, {"Birthdate": "month_first"}).status_code == 200  # an admin confirms it
    drain(pump)
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/second.csv", Body=data(SDS))
    drain(pump)
    dropped = api.get("/api/imports").data["items"][0]
    assert dropped["date_orders"] == {"Birthdate": "month_first"} and dropped["summary"]["errors"] == 0, dropped
    settings = [e for e in api.all_pages("/api/audit?entity=settings")
                if "import_date_orders.pupils" in (e["changes"] or {})]
    assert settings and settings[0]["changes"]["import_date_orders.pupils"][1] == {"Birthdate": "month_first"}


def test_columns_whose_headers_say_nothing_are_suggested_by_their_values(api, importer, pump, admin):
    """Headers nobody uses, values that say what they are: suggested, marked
    by values for a person to confirm; never taken by a drop unconfirmed."""
    from tests.imports.conftest import upn
    csv = ("Given,Family,Born on,Ident,M/F,Yr,Notes\n"
           f"Ann,Lee,01/02/2015,{upn(1)},F,Year 5,hello\nBen,Ray,02/03/2015,{upn(2)},M,5,world\n").encode()
    imp = importer.upload("pupils", csv)
    assert imp["suggested_mapping"] == {"Born on": "date_of_birth", "Ident": "upn", "M/F": "gender",
                                        "Yr": "year_group"}
    assert imp["suggested_by"] == {"Born on": "values", "Ident": "values", "M/F": "values", "Yr": "header"}
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/odd.csv", Body=csv)
    drain(pump)
    dropped = api.get("/api/imports").data["items"][0]
    assert dropped["status"] == "failed" and dropped["error"]["code"] == "no_mapping", dropped  # a guess waits for a person


def test_a_drop_whose_dates_now_say_day_first_is_not_read_month_first(api, importer, pump, admin):
    """Confirmed month first, then a file whose values can only be day first
    (25/12/2013): the drop fails asking, and 4/2/2014 is never stored as 2 April."""
    imp = importer.upload("pupils", data(SDS))
    assert put_mapping(api, imp, {"Birthdate": "month_first"}).status_code == 200
    drain(pump)
    day_first = (b"First Name,Last Name,Grade,Birthdate,Gender\r\n"
                 b"Yusuf,Ali,7,4/2/2014,M\r\nZara,Ali,7,25/12/2013,F\r\n")
    s3 = boto3.client("s3", region_name=config.region())
    s3.put_object(Bucket=config.bucket_name(), Key=f"drop/{admin['school_id']}/pupils/uk.csv", Body=day_first)
    drain(pump)
    dropped = api.get("/api/imports").data["items"][0]
    assert dropped["status"] == "failed" and dropped["error"]["code"] == "date_order_unconfirmed", dropped


def test_a_mapping_naming_a_field_by_anything_but_text_is_a_422(api, importer):
    imp = importer.upload("pupils", data(SDS))
    r = api.put(f"/api/imports/{imp['id']}/mapping", {"mapping": {**imp["suggested_mapping"], "Gender": ["gender"]},
                                                      "date_orders": {"Birthdate": "month_first"}})
    assert r.status_code == 422 and r.data["errors"][0]["code"] == "invalid_type", r.body
