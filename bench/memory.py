"""Peak memory (RSS) of the benchmark process: resettable per size on Linux, and over its whole life."""

import re
import resource
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
