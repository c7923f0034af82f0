"""Peak memory (RSS) of the benchmark process: resettable per size on Linux, and over its whole life."""

import ctypes
import re
import resource
import sys
from pathlib import Path


def reset_peak_rss():
    """Reset the kernel's peak-RSS mark of this process (Linux); return False where not allowed."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb():
    """Return this process's peak RSS in MB since start or the last reset_peak_rss()."""
    peak = _status_mb("VmHWM")
    return process_peak_rss_mb() if peak is None else peak


def process_peak_rss_mb():
    """Return the peak RSS in MB of this process over its whole life (getrusage)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def current_rss_mb():
    """Return this process's resident memory (RSS) in MB now (Linux; the whole life's peak elsewhere)."""
    now = _status_mb("VmRSS")
    return process_peak_rss_mb() if now is None else now


def _status_mb(field):
    """Return the figure `field` (in kB) of /proc/self/status in MB; None where there is none."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(re.search(rf"{field}:\s+(\d+) kB", status).group(1)) / 1024
    except (OSError, AttributeError):
        return None


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena",
            "ordblks",
            "smblks",
            "hblks",
            "hblkhd",
            "usmblks",
            "fsmblks",
            "uordblks",
            "fordblks",
            "keepcost",
        )
    ]


def heap_mb():
    """Return where this process's heap memory is, to tell growing objects from a growing allocator:
    {"malloc_in_use", "malloc_free_held"} in MB (glibc's mallinfo2: bytes handed out, and bytes freed
    but kept from the kernel; None without glibc 2.33+) and "python_blocks" (memory blocks Python's
    own allocator has handed out, sys.getallocatedblocks)."""
    try:
        mallinfo2 = ctypes.CDLL(None).mallinfo2
    except AttributeError:
        in_use = free_held = None
    else:
        mallinfo2.restype = _MallInfo2
        info = mallinfo2()
        in_use = (info.uordblks + info.hblkhd) / 2**20
        free_held = info.fordblks / 2**20
    return {"malloc_in_use": in_use, "malloc_free_held": free_held, "python_blocks": sys.getallocatedblocks()}
