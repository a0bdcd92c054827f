"""Plain dicts from PynamoDB's map attributes. Pure: no AWS, no PynamoDB."""


def plain(value):
    """A map attribute as a plain dict (PynamoDB hands back a MapAttribute
    or a dict, depending on how the item was made); {} for None."""
    if value is None:
        return {}
    return value.as_dict() if hasattr(value, "as_dict") else dict(value)
