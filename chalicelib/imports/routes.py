"""HTTP routes for CSV imports."""
from chalice import Blueprint, Response

from ..core import audit
from ..core.csv_export import BOM, attachment, to_csv
from ..core.downloads import csv_response
from ..core.errors import ApiError
from ..core.http import route
from ..core.paging import decode_cursor, encode_cursor, parse_limit
from ..core.schema import array, integer, obj, string
from . import changes, columns, kinds, service, store
from .models import STATUSES

bp = Blueprint(__name__)
TAG = "imports"
KIND = string(enum=list(kinds.NAMES))
UPLOAD_KIND = string(enum=list(kinds.UPLOADS))
IMPORT = obj(["id", "kind", "status", "rows_processed"], id=string(), kind=string(), source=string(),
             filename=string(), status=string(enum=list(STATUSES)),
             rows_processed=integer(), rows_total=integer(nullable=True),
             columns={"type": "array", "nullable": True}, suggested_mapping={"type": "object", "nullable": True},
             suggested_by={"type": "object", "description": "{column: header | values}"},
             mapping={"type": "object", "nullable": True},
             date_orders={"type": "object", "description": "{column: day_first | month_first | iso}"},
             file_format=string(nullable=True, description="csv | xlsx | ods | xls"),
             sheet=string(nullable=True, description="a workbook's sheet read"),
             sheets={"type": "array", "nullable": True, "description": "a workbook's visible sheets"},
             summary={"type": "object", "nullable": True},
             result={"type": "object", "nullable": True}, error={"type": "object", "nullable": True},
             hold={"type": "object", "nullable": True, "description": "why a drop is held (or was discarded)"},
             decided_by=string(nullable=True, description="who approved or discarded a held drop"),
             bundle={"type": "object", "nullable": True,
                     "description": "a bundle's {flavour, files, orgs: [{sourcedId, name, type, users}]}"},
             parts={"type": "object", "nullable": True, "description": "a bundle's {kind: import id}"},
             part_of=string(nullable=True, description="the bundle this import is part of"),
             fields={"type": "array"}, created_at=string(), updated_at=string())
ROW = obj(["row", "values", "errors"], row=integer(), values={"type": "object"},
          errors=array({"type": "object"}), status=string())
PAGING = {"limit": (integer(minimum=1, maximum=500), "Page size (default 50, max 500)"),
          "next": (string(), "Cursor from the previous page's 'next'")}


@route(bp, "/imports/template", "GET", summary="A CSV template (header and one example row)",
       tag=TAG, permission="manage_roster", query={"kind": (KIND, "pupils or staff")},
       response=string(), content_type="text/csv")
def template(ctx):
    kind = ctx.query.get("kind") or "pupils"
    if kind not in kinds.NAMES:
        raise ApiError("bad_request", f"kind must be one of: {', '.join(kinds.NAMES)}.")
    # With a BOM, so Excel opens the accents in the example row correctly.
    return Response(body=BOM + columns.template_csv(kind), status_code=200,
                    headers=attachment(f"schoolroll-{kind}-template.csv"))


@route(bp, "/imports", "POST", summary="Start an import: returns a presigned S3 upload", tag=TAG,
       permission="manage_roster", verified=True, status=201,
       body=obj(["kind", "filename"], kind=UPLOAD_KIND, filename=string(200)),
       response=obj(["import_id", "upload"], import_id=string(), max_bytes=integer(), expires_in=integer(),
                    upload=obj(["url", "fields"], url=string(), fields={"type": "object"})))
def start(ctx):
    return service.start_upload(ctx.caller, ctx.body["kind"], ctx.body["filename"])


@route(bp, "/imports", "GET", summary="The school's imports, newest first, with progress", tag=TAG,
       permission="manage_roster", query=PAGING,
       response=obj(["items", "next"], items=array(IMPORT), next=string(nullable=True)))
def list_imports(ctx):
    state = decode_cursor(ctx.query.get("next"), ctx.caller.school_id, keys={"school_id": str, "import_id": str})
    return store.list_imports(ctx.caller.school_id, parse_limit(ctx.query), state)


@route(bp, "/imports/{import_id}", "GET", summary="One import: status, columns, summary, result", tag=TAG,
       permission="manage_roster", response=IMPORT)
def get_import(ctx, import_id):
    return store.as_json(store.get(ctx.caller.school_id, import_id))


@route(bp, "/imports/{import_id}/mapping", "PUT", summary="Match columns to fields, then validate", tag=TAG,
       permission="manage_roster", response=IMPORT,
       body=obj([], mapping={"type": "object", "description": "{column: field} (not for a bundle)"},
                date_orders={"type": "object", "description": "{date column: day_first | month_first | iso}: "
                             "required for a column whose values read only month first"},
                org=string(description="a bundle: the sourcedId of the school in it to import"),
                grades_as=string(enum=["year", "us_grade"], description="a bundle: grades 01-13 as Years "
                                 "1-13 (year, the default) or as US grades (us_grade: the year is grade + 1)")))
def put_mapping(ctx, import_id):
    return service.set_mapping(ctx.caller, import_id, ctx.body.get("mapping"), ctx.body.get("date_orders"),
                               body=ctx.body)


@route(bp, "/imports/{import_id}/sheet", "PUT", summary="Read a workbook from another of its sheets", tag=TAG,
       permission="manage_roster", response=IMPORT, body=obj(["sheet"], sheet=string(200)))
def put_sheet(ctx, import_id):
    return service.choose_sheet(ctx.caller, import_id, ctx.body["sheet"])


@route(bp, "/imports/{import_id}/rows", "GET", summary="Rows with problems (paged)", tag=TAG,
       permission="manage_roster",
       query={"only": (string(enum=["errors", "all"]), "errors (default): rows still refused; all: "
                       "every row kept for review, fixed ones included"), **PAGING},
       response=obj(["items", "next"], items=array(ROW), next=string(nullable=True)))
def list_rows(ctx, import_id):
    only = ctx.query.get("only") or "errors"
    if only not in ("errors", "all"):
        raise ApiError("bad_request", "only must be 'errors' or 'all'.")
    state = decode_cursor(ctx.query.get("next"), ctx.caller.school_id, keys={"school_id": str, "row": int})
    return store.list_rows(ctx.caller.school_id, import_id, only, parse_limit(ctx.query), state)


@route(bp, "/imports/{import_id}/errors.csv", "GET", summary="The rows still refused, as CSV to fix in a "
       "spreadsheet: the file's line, the mapped fields, the problems (the first 10,000 rows)", tag=TAG,
       permission="manage_roster", response=string(), content_type="text/csv", big_files=True)
def errors_csv(ctx, import_id):
    return csv_response(ctx.caller.school_id, *service.errors_csv(ctx.caller, import_id))


@route(bp, "/imports/{import_id}/rows/{row}", "PATCH", summary="Fix a row's values and check it again",
       tag=TAG, permission="manage_roster", body=obj(["values"], values={"type": "object"}), response=ROW)
def fix_row(ctx, import_id, row):
    if not row.isdigit():
        raise ApiError("not_found", "No such row with problems in this import.")
    return service.fix_row(ctx.caller, import_id, int(row), ctx.body["values"])


@route(bp, "/imports/{import_id}/commit", "POST", summary="Import the valid rows", tag=TAG,
       permission="manage_roster", verified=True, response=IMPORT)
def commit(ctx, import_id):
    return service.request_commit(ctx.caller, import_id)


@route(bp, "/imports/{import_id}/complete", "POST", summary="Mark the import done", tag=TAG,
       permission="manage_roster", response=IMPORT)
def complete(ctx, import_id):
    return service.complete(ctx.caller, import_id)


@route(bp, "/imports/{import_id}/approve", "POST", summary="Commit a held drop as it was checked (a staff "
       "file needs manage_settings too: a drop acts with the school's rights)", tag=TAG,
       permission="manage_roster", verified=True, response=IMPORT)
def approve(ctx, import_id):
    return service.approve(ctx.caller, import_id)


@route(bp, "/imports/{import_id}/discard", "POST", summary="End a held drop with nothing written", tag=TAG,
       permission="manage_roster", verified=True, response=IMPORT)
def discard(ctx, import_id):
    return service.discard(ctx.caller, import_id)


CHANGE = obj(["change", "id", "record"], change=string(enum=list(changes.CHANGES)), row=integer(nullable=True),
             id=string(), record={"type": "object"}, fields={"type": "object"})


@route(bp, "/imports/{import_id}/changes", "GET", summary="What a checked import (in review or held) would "
       "do, record by record: one kind of change a page; an update shows each field before and after",
       tag=TAG, permission="manage_roster", response=obj(["items", "next"], items=array(CHANGE),
                                                          next=string(nullable=True)),
       query={"kind": (string(enum=list(changes.CHANGES)), "create, update, leave or restore"), **PAGING})
def list_changes(ctx, import_id):
    imp = store.get(ctx.caller.school_id, import_id)
    state = decode_cursor(ctx.query.get("next"), ctx.caller.school_id, keys={"school_id": str, "at": int})
    items, nxt = changes.page(imp, ctx.query.get("kind") or "create", (state or {}).get("at", 0),
                              parse_limit(ctx.query))
    return {"items": items, "next": encode_cursor({"school_id": imp.school_id, "at": nxt}) if nxt else None}


@route(bp, "/imports/{import_id}/changes.csv", "GET", summary="Every change a checked import would make, as "
       "CSV", tag=TAG, permission="manage_roster", response=string(), content_type="text/csv", big_files=True)
def changes_csv(ctx, import_id):
    imp = store.get(ctx.caller.school_id, import_id)
    header, rows = changes.csv_rows(imp)
    audit.write(audit.entry(ctx.caller, "export", "import_changes", import_id, None, {}))
    return csv_response(imp.school_id, f"schoolroll-import-{import_id}-changes.csv", to_csv(header, rows))
