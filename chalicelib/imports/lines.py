"""An upload as text, one physical line at a time and never an overlong line
whole: what sniffing a sample, streaming the whole file and reading a
staging file back all need, kept apart from how a CSV is laid out.
Pure standard library: no AWS, no boto3.
"""
import io

#: what bounded_lines gives csv.reader for a line too long to read: a line
#: csv.reader refuses, so the line becomes one unreadable record
UNREADABLE_LINE = "\r\x00\n"


class _RawAdapter(io.RawIOBase):
    """Any object with .read(n) -> bytes (a file, a botocore StreamingBody,
    which has no readable()) as a raw stream that io.BufferedReader accepts."""

    def __init__(self, source):
        super().__init__()
        self._source = source
        self._pending = b""

    def readable(self):
        return True

    def readinto(self, buffer):
        wanted = len(buffer)
        data = self._pending or self._source.read(wanted) or b""
        data, self._pending = data[:wanted], data[wanted:]  # some sources over-deliver
        buffer[:len(data)] = data
        return len(data)


def open_text(raw_stream, encoding) -> io.TextIOBase:
    """A text stream over a binary one, positioned at the file's start.

    newline='' so csv sees line endings as written (quoted line breaks stay
    in their cells). Undecodable bytes become U+FFFD rather than failing the
    whole file: the validator flags the cell that holds one.
    """
    buffered = io.BufferedReader(_RawAdapter(raw_stream), buffer_size=64 * 1024)
    return io.TextIOWrapper(buffered, encoding=encoding, errors="replace", newline="")


def bounded_lines(stream, limit):
    """Physical lines for csv.reader, read at most ``limit`` characters at a
    time: a longer line is skipped, never held whole, and stands as one
    UNREADABLE_LINE. (A generator: csv.reader pulls every line through it.)"""
    readline = stream.readline
    while True:
        line = readline(limit)
        if not line:
            return
        if len(line) >= limit and line[-1] not in "\n\r":
            while True:
                rest = readline(limit)
                if not rest or rest[-1] in "\n\r":
                    break
            line = UNREADABLE_LINE
        yield line
