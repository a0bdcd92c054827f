"""What makes a zip unsafe to open, before any member is read: shared by
workbooks (a zip of XML parts) and roster bundles (a zip of CSV files).
Pure: it reads the zip's central directory only."""
import zipfile

#: a member inflating more than this many times its stored size (over MIN_RATIO_BYTES) is a bomb
MAX_RATIO = 100
MIN_RATIO_BYTES = 1 << 20


class Damaged(Exception):
    """Not a zip we can read at all."""


def members(fileobj):
    """The zip's members (its central directory), or Damaged."""
    try:
        return zipfile.ZipFile(fileobj).infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise Damaged(str(exc)) from None


def unsafe(infos, max_members, member_cap, total_cap):
    """Why these members must not be opened (a sentence that follows "because"),
    or None: too many of them, a path with ``..`` or from the root, one over
    ``member_cap`` once inflated, all over ``total_cap``, or a ratio over 100:1."""
    if len(infos) > max_members:
        return f"it holds {len(infos):,} files, and we read at most {max_members:,}"
    total = 0
    for m in infos:
        name = m.filename.replace("\\", "/")
        if name.startswith("/") or ".." in name.split("/") or (len(name) > 1 and name[1] == ":"):
            return f"a file in it is named '{name[:80]}', outside it"
        total += m.file_size
        if m.file_size > member_cap:
            return f"'{name[:80]}' unpacks to more than {member_cap // 1048576} MB"
        if total > total_cap:
            return f"it unpacks to more than {total_cap // 1048576} MB"
        if m.file_size > MIN_RATIO_BYTES and m.file_size > MAX_RATIO * max(1, m.compress_size):
            return f"'{name[:80]}' unpacks to {m.file_size // max(1, m.compress_size):,} times its size, " \
                   "which no real file does"
    return None
