"""A small checker for the subset of JSON Schema our OpenAPI document uses.

The schema that documents a request body is the one that checks it, so the
document cannot drift from what the API accepts. Semantic rules (a UPN's check
letter, a plausible date of birth) live in each domain's pure logic.
"""
from .errors import FieldError

_TYPES = {
    "string": str,
    "boolean": bool,
    "object": dict,
    "array": list,
}


def _type_ok(kind, value):
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def check(schema, value, path=""):
    """Return a list of FieldError; empty when value fits schema."""
    errors = []
    if value is None:
        if schema.get("nullable"):
            return errors
        errors.append(FieldError(path or "body", "required", "A value is required."))
        return errors
    kind = schema.get("type")
    if kind and not _type_ok(kind, value):
        errors.append(FieldError(path or "body", "invalid_type", f"Must be a {kind}."))
        return errors
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(str(v) for v in schema["enum"])
        errors.append(FieldError(path, "invalid_choice", f"Must be one of: {allowed}."))
    if kind == "string":
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(FieldError(path, "too_long", f"At most {schema['maxLength']} characters."))
    if kind == "array":
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errors.append(FieldError(path, "too_long", f"At most {schema['maxItems']} items."))
        for i, item in enumerate(value):
            errors.extend(check(schema.get("items", {}), item, f"{path}[{i}]"))
    if kind == "object":
        props = schema.get("properties", {})
        for name in schema.get("required", ()):
            present = value.get(name)
            if present is None or (isinstance(present, str) and not present.strip()):
                if not props.get(name, {}).get("nullable"):
                    errors.append(FieldError(_join(path, name), "required", "This field is required."))
        for name, sub in props.items():
            if name in value and value[name] is not None:
                errors.extend(check(sub, value[name], _join(path, name)))
            elif name in value and value[name] is None and not sub.get("nullable") \
                    and name not in schema.get("required", ()):
                errors.append(FieldError(_join(path, name), "invalid_type", "Must not be null."))
    return errors


def unknown_fields(schema, value, path=""):
    """A FieldError ``unknown_field`` for each key of an object (and of the
    objects inside it) that its schema does not declare: a misspelt or
    unsupported field is refused, never silently dropped. An object schema
    with no properties (free-form, e.g. a column mapping) takes any key."""
    errors = []
    if isinstance(value, dict) and schema.get("type") == "object" and schema.get("properties"):
        props = schema["properties"]
        for name in value:
            if name not in props:
                errors.append(FieldError(_join(path, name), "unknown_field",
                                         f"'{name}' is not a field here. Send only: {', '.join(props)}."))
            else:
                errors.extend(unknown_fields(props[name], value[name], _join(path, name)))
    elif isinstance(value, list) and schema.get("type") == "array":
        for i, item in enumerate(value):
            errors.extend(unknown_fields(schema.get("items", {}), item, f"{path}[{i}]"))
    return errors


def _join(path, name):
    return f"{path}.{name}" if path else name


# Shorthands used by the route declarations.
def obj(required=(), **properties):
    out = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)  # OpenAPI 3.0: a present list is never empty
    return out


def string(max_length=None, **extra):
    s = {"type": "string", **extra}
    if max_length:
        s["maxLength"] = max_length
    return s


def boolean(**extra):
    return {"type": "boolean", **extra}


def integer(**extra):
    return {"type": "integer", **extra}


def array(items, **extra):
    return {"type": "array", "items": items, **extra}
