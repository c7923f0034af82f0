"""Failed logins throttled across usernames: per client address and for the whole clinic.

The per-account lock (data_layer/users.py) stops guessing one password; it does nothing
against trying one common password on many usernames ("spraying"). Two token buckets do:
each failed login takes a token from its address's bucket and from the clinic's; while
either is empty, every login from there is refused before any password is checked, the
right one included. Successful logins take nothing.

The buckets live in this process, as the app does (one process holds the DuckDB file); in
server mode every app process takes from the same buckets, rows of the database's login_throttle
table (DatabaseLoginThrottle), or N processes would let N times as many guesses through.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from data_layer.core.postgres import PostgresCursor

# A typo-prone person fails a few times; a sprayer fails many times. Ten failures from one
# address at once, then one more every 30 seconds.
PER_ADDRESS_BURST, PER_ADDRESS_SECONDS_PER_TOKEN = 10, 30.0
# The whole clinic: a hundred at once, then one a second (a distributed sprayer's ceiling).
CLINIC_BURST, CLINIC_SECONDS_PER_TOKEN = 100, 1.0
# Addresses whose bucket is full again carry no information: forget them past this many.
MAX_ADDRESSES = 10_000


@dataclass
class _Bucket:
    capacity: float
    seconds_per_token: float
    tokens: float
    updated: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) / self.seconds_per_token)
        self.updated = now

    def seconds_until_a_token(self) -> float:
        return max(0.0, (1 - self.tokens) * self.seconds_per_token)


class LoginThrottle:
    """Token buckets of failed logins, per address and clinic-wide. Thread-safe."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._clinic = _Bucket(CLINIC_BURST, CLINIC_SECONDS_PER_TOKEN, CLINIC_BURST, clock())
        self._addresses: dict[str, _Bucket] = {}

    def _buckets(self, address: str, now: float) -> tuple[_Bucket, _Bucket]:
        bucket = self._addresses.get(address)
        if bucket is None:
            if len(self._addresses) >= MAX_ADDRESSES:
                self._forget_full_buckets(now)
            bucket = self._addresses[address] = _Bucket(
                PER_ADDRESS_BURST, PER_ADDRESS_SECONDS_PER_TOKEN, PER_ADDRESS_BURST, now
            )
        for each in (bucket, self._clinic):
            each.refill(now)
        return bucket, self._clinic

    def _forget_full_buckets(self, now: float) -> None:
        for address, bucket in list(self._addresses.items()):
            bucket.refill(now)
            if bucket.tokens >= bucket.capacity:
                del self._addresses[address]

    def wait_seconds(self, address: str) -> float:
        """Return 0 when a login from `address` may be tried now, else the seconds to wait."""
        with self._lock:
            buckets = self._buckets(address, self._clock())
            return max(bucket.seconds_until_a_token() for bucket in buckets)

    def record_failure(self, address: str) -> None:
        """Take a token for a failed login from `address` (and from the clinic's bucket)."""
        with self._lock:
            for bucket in self._buckets(address, self._clock()):
                bucket.tokens = max(0.0, bucket.tokens - 1)


# The embedded app's one throttle: module state, so that Streamlit's clear-cache message cannot reset it.
THROTTLE = LoginThrottle()


class DatabaseLoginThrottle:
    """The same token buckets as LoginThrottle, kept in the login_throttle table (server mode), so
    that every app process takes from them. One row per bucket: its tokens when last changed, and
    when; refills are worked out from the database's clock as they are read.

    Failures are taken in READ COMMITTED transactions: two processes taking a token from the same
    bucket at once then wait for each other's row lock and both count, instead of one failing as a
    write conflict.
    """

    def __init__(self, cur: PostgresCursor) -> None:
        self._cur = cur

    def wait_seconds(self, address: str) -> float:
        """Return 0 when a login from `address` may be tried now, else the seconds to wait."""
        waits = [0.0]
        for key, capacity, seconds_per_token in self._buckets(address):
            row = self._cur.execute_native(
                """SELECT least($2, tokens + extract(epoch FROM localtimestamp - updated_at) / $3)
                   FROM login_throttle WHERE bucket = $1""",
                [key, capacity, seconds_per_token],
            ).fetchone()
            if row is not None:
                waits.append(max(0.0, (1 - float(row[0])) * seconds_per_token))
        return max(waits)

    def record_failure(self, address: str) -> None:
        """Take a token for a failed login from `address` (and from the clinic's bucket)."""
        self._cur.execute_native("BEGIN ISOLATION LEVEL READ COMMITTED")
        try:
            for key, capacity, seconds_per_token in self._buckets(address):
                self._cur.execute_native(
                    """INSERT INTO login_throttle AS t (bucket, tokens, updated_at)
                       VALUES ($1, $2 - 1, localtimestamp)
                       ON CONFLICT (bucket) DO UPDATE SET
                           tokens = greatest(0, least($2, t.tokens + extract(epoch FROM localtimestamp - t.updated_at) / $3) - 1),
                           updated_at = localtimestamp""",
                    [key, capacity, seconds_per_token],
                )
            # Buckets full again carry no information (as MAX_ADDRESSES in memory).
            self._cur.execute_native(
                """DELETE FROM login_throttle
                   WHERE bucket LIKE 'address:%' AND updated_at < localtimestamp - make_interval(secs => $1)""",
                [PER_ADDRESS_BURST * PER_ADDRESS_SECONDS_PER_TOKEN],
            )
        except BaseException:
            self._cur.execute_native("ROLLBACK")
            raise
        self._cur.execute_native("COMMIT")

    @staticmethod
    def _buckets(address: str) -> list[tuple[str, int, float]]:
        """Each bucket a failure from `address` takes from: its key, capacity and refill time."""
        return [
            (f"address:{address}", PER_ADDRESS_BURST, PER_ADDRESS_SECONDS_PER_TOKEN),
            ("clinic", CLINIC_BURST, CLINIC_SECONDS_PER_TOKEN),
        ]


def throttle_for(cur: object) -> "LoginThrottle | DatabaseLoginThrottle":
    """Return the throttle that logins through `cur` take from: this process's, or in server mode
    (a PostgreSQL cursor) the database's."""
    return DatabaseLoginThrottle(cur) if isinstance(cur, PostgresCursor) else THROTTLE
