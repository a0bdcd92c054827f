"""A workbook read in a child process whose memory and CPU time are capped.

A spreadsheet reader builds a sheet in memory, and a file of a few KB can
ask it for far more than a worker has: a cell at the far corner of the grid,
an OpenDocument row repeated a million times, a shared string named by every
cell. Such an allocation aborts the process, which no ``except`` catches. So
the reading happens in a child under RLIMIT_AS and RLIMIT_CPU: a child that
runs out is killed alone, and the import fails saying why. The child sends
back what the sheet holds in length-prefixed pickled batches of text rows
(pickles it made itself, of lists of str, read only from it).
"""
import os
import pickle
import resource
import struct
import subprocess
import sys
import tempfile

#: the child's address space and CPU time (the import worker has 1,024 MB)
MEMORY_BYTES = 900 << 20
CPU_SECONDS = 120
#: rows a batch
BATCH = 2000
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_LENGTH = struct.Struct(">I")


class ChildFailed(Exception):
    """The child died (out of memory or time) or sent something it should not."""


def run_child(module, fileobj, args):
    """Start ``python -m module *args`` on the file (its stdin): an iterator
    of the frames it sends, ending when it ends; ChildFailed if it dies."""
    source = fileobj if _has_fileno(fileobj) else _spooled(fileobj)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, os.environ.get("PYTHONPATH")) if p)}
    child = subprocess.Popen([sys.executable, "-m", module, *args], stdin=source,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd=_ROOT)
    return _frames(child)


def _has_fileno(fileobj):
    try:
        fileobj.fileno()
        return True
    except (AttributeError, OSError, ValueError):
        return False


def _spooled(fileobj):
    out = tempfile.TemporaryFile()
    out.write(fileobj.read())
    out.seek(0)
    return out


def _frames(child):
    try:
        while True:
            head = child.stdout.read(_LENGTH.size)
            if len(head) < _LENGTH.size:
                break
            body = child.stdout.read(_LENGTH.unpack(head)[0])
            frame = pickle.loads(body)
            if frame is None:  # the end
                child.wait()
                return
            yield frame
        child.wait()
        raise ChildFailed(f"the reader stopped ({child.returncode})")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        child.stdout.close()


def send(frame, out):
    """One frame to the parent."""
    body = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(_LENGTH.pack(len(body)))
    out.write(body)


def capped():
    """In the child, first: its memory and CPU time capped, and the stream
    its frames go to (stdout, kept for them alone: anything printed goes to
    stderr)."""
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    frames_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    return frames_out
