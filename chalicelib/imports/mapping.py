"""Checks of a column matching a person sends (PUT mapping): fields known
and required, date orders confirmed. Pure: no AWS, no file reading."""
from ..core.errors import FieldError
from ..roster.dates import CHOSEN, DateOrder
from ..roster.fields import DATE_FIELDS


def check_mapping(kind, header, mapping):
    """The problems of a {column: field} matching for a file of ``kind``."""
    errors = []
    fields = kind.fields
    if not isinstance(mapping, dict):
        return [FieldError("mapping", "invalid_type", "Send the mapping as {column: field}.")]
    used = {}
    for column, field in mapping.items():
        if field in (None, ""):
            continue
        if not isinstance(field, str):
            errors.append(FieldError(f"mapping.{column}", "invalid_type", "Name the field as text."))
            continue
        if column not in header:
            errors.append(FieldError(f"mapping.{column}", "unknown_column",
                                     f"The file has no column called '{column}'."))
        elif field not in fields:
            errors.append(FieldError(f"mapping.{column}", "invalid_choice",
                                     f"'{field}' is not a field. Use one of: {', '.join(fields)}."))
        elif field in used:
            errors.append(FieldError(f"mapping.{column}", "duplicate_field",
                                     f"'{field}' is already matched to column '{used[field]}'."))
        else:
            used[field] = column
    for field in sorted(kind.required - set(used)):
        errors.append(FieldError(f"mapping.{field}", "required",
                                 f"Match a column to the required field '{field}'."))
    return errors


def check_date_orders(kind, columns, mapping, date_orders):
    """(problems, {column: order}) of the date orders sent with a matching:
    each for a column matched to a date field, one of CHOSEN; and a column
    whose values read only month first must be confirmed (never silently)."""
    if date_orders is None:
        date_orders = {}
    if not isinstance(date_orders, dict) or not all(isinstance(v, str) for v in date_orders.values()):
        return [FieldError("date_orders", "invalid_type", "Send the date orders as {column: order}.")], {}
    detected = {c["name"]: c.get("date_order") for c in columns}
    dated = {column for column, field in (mapping or {}).items()
             if isinstance(field, str) and field in DATE_FIELDS[kind.name]}
    errors = []
    for column, order in date_orders.items():
        if column not in detected:
            errors.append(FieldError(f"date_orders.{column}", "unknown_column",
                                     f"The file has no column called '{column}'."))
        elif column not in dated:
            errors.append(FieldError(f"date_orders.{column}", "not_a_date_column",
                                     f"'{column}' is not matched to a date field."))
        elif order not in CHOSEN:
            errors.append(FieldError(f"date_orders.{column}", "invalid_choice",
                                     f"Use one of: {', '.join(CHOSEN)}."))
    for column in sorted(dated):
        if detected.get(column) == DateOrder.MONTH_FIRST and column not in date_orders:
            errors.append(FieldError(f"date_orders.{column}", "date_order_unconfirmed",
                                     f"The dates in '{column}' read only month first (such as 12/19/1997). "
                                     f"Confirm it with date_orders {{\"{column}\": \"month_first\"}}, "
                                     "or send \"day_first\" to read them day first."))
    return errors, {c: o for c, o in date_orders.items() if c in dated}


def field_date_orders(imp):
    """{field: order} of an import's confirmed date columns."""
    return {imp.mapping[c]: o for c, o in (imp.date_orders or {}).items() if c in (imp.mapping or {})}
