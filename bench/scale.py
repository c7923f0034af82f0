"""Clinics of three sizes for the benchmarks, built with the demo generator (ops.demo).

S = 100 clients, M = 1,000 and L = 10,000 (the "large clinic" of docs/architecture.md). Every size
keeps about 50 clients per therapist and 10 therapists per supervisor (S: 2 therapists,
1 supervisor), so a typical user of each role sees about the same amount of data at M
and at L, and a page that slows down from M to L is paying for the size of the tables.

`python -m bench.scale PATH SIZE` creates one database and prints its timings as JSON
(bench.run builds its databases that way, in a child process, so that the generator's
memory does not count toward the app's peak memory).
"""

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path

from data_layer.core import db
from data_layer.core.postgres import is_postgres_url
from ops.demo import DEFAULT_SEED, build_clinic, load_clinic


@dataclass(frozen=True)
class Size:
    """The shape of one benchmark clinic."""

    name: str
    clients: int
    therapists: int
    supervisors: int
    weeks: int


SIZES = {
    "S": Size("S", clients=100, therapists=2, supervisors=1, weeks=26),
    "M": Size("M", clients=1_000, therapists=20, supervisors=2, weeks=52),
    "L": Size("L", clients=10_000, therapists=200, supervisors=20, weeks=52),
}


def client_username(size, number):
    """Return the username of client `number` (1-based) in a clinic of `size`, e.g. client00001 at L.

    The demo generator zero-pads client numbers to the width of the client count (at least 2).
    """
    width = max(2, len(str(SIZES[size].clients)))
    return f"client{number:0{width}d}"


def create_scaled_database(path, size, *, seed=DEFAULT_SEED):
    """Build the clinic of `size` ("S", "M" or "L") and bulk-load it into a NEW database at `path`.

    Returns {"size", "build_seconds", "load_seconds", "seconds" (build + load),
    "rows": {table: row count}}. Refuses (FileExistsError) to touch an existing file. In server mode
    `path` is the URL of a new PostgreSQL database, loaded by COPY (data_layer.core.postgres).
    """
    shape = SIZES[size]
    if not is_postgres_url(path):
        path = Path(path)
    if isinstance(path, Path) and path.exists():
        raise FileExistsError(f"{path} already exists; benchmark clinics are only written to new files.")
    started = time.perf_counter()
    frames = build_clinic(
        seed=seed,
        n_clients=shape.clients,
        n_past_clients=0,  # the year-long history ends many episodes of its own
        n_therapists=shape.therapists,
        n_supervisors=shape.supervisors,
        weeks=shape.weeks,
    )
    built = time.perf_counter()
    conn = db.connect(path)  # creates and migrates the file: part of the load time
    try:
        load_clinic(conn, frames)
    finally:
        conn.close()
    loaded = time.perf_counter()
    return {
        "size": size,
        "build_seconds": built - started,
        "load_seconds": loaded - built,
        "seconds": loaded - started,
        "rows": {table: len(frame) for table, frame in frames.items()},
    }


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description="Create one benchmark clinic and print its build timings as JSON."
    )
    parser.add_argument("path", help="database file to create (must not exist)")
    parser.add_argument("size", choices=list(SIZES))
    args = parser.parse_args(argv)
    print(json.dumps(create_scaled_database(args.path, args.size)))


if __name__ == "__main__":
    main()
