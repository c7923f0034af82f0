"""The calendar of the history and the people of the demo clinic: user ids by role, and the
accounts (usernames, names, one shared demo password)."""

import functools
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import numpy as np
import pandas as pd

from data_layer.users import hash_password

DEMO_PASSWORD = "homework-demo"
DEMO_LOGINS = [("client", "client01"), ("therapist", "therapist1"), ("supervisor", "supervisor"), ("admin", "admin")]
SECONDS_PER_DAY = 24 * 3600

FIRST_NAMES = [
    "Aisha",
    "Ben",
    "Chloe",
    "Daniel",
    "Elif",
    "Finn",
    "Grace",
    "Hamza",
    "Isla",
    "Jamal",
    "Kasia",
    "Liam",
    "Maya",
    "Noah",
    "Olu",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wei",
    "Yara",
    "Zoe",
    "Aaron",
    "Bea",
    "Carlos",
    "Dara",
    "Emeka",
    "Fatima",
    "George",
    "Hana",
    "Ivan",
    "Jess",
    "Kofi",
    "Lena",
    "Marco",
    "Nadia",
    "Oscar",
    "Pavel",
    "Rhys",
    "Sofia",
    "Tomás",
    "Ursula",
    "Viktor",
    "Wendy",
    "Xin",
    "Yusuf",
    "Zainab",
    "Amara",
    "Bilal",
    "Ciara",
    "Declan",
    "Esme",
    "Farid",
    "Gemma",
    "Hiro",
    "Ines",
    "Joel",
]
SURNAMES = [
    "Rivera",
    "Okafor",
    "Chen",
    "Patel",
    "Novak",
    "Müller",
    "Kowalski",
    "Haddad",
    "Nguyen",
    "O'Brien",
    "Santos",
    "Ahmed",
    "Larsen",
    "Mensah",
    "Rossi",
    "Tanaka",
    "Ellis",
    "Jones",
    "Kaur",
    "Dubois",
]


@dataclass(frozen=True)
class Calendar:
    """ISO-week grid of the history: day 0 is the Monday of the first week, the last day is today.

    `seconds_today` is how much of today has passed when the clinic is built (86,400 for
    a `today` in the past): no timestamp may be later than that moment.
    """

    first_day: date
    n_days: int
    n_weeks: int
    seconds_today: int = SECONDS_PER_DAY

    def dates(self, day_index):
        """Day indices -> datetime64 dates."""
        return np.datetime64(self.first_day, "D") + np.asarray(day_index, dtype="int64")

    def timestamps(self, day_index, seconds):
        """Day indices plus seconds into the day -> datetime64[s] timestamps, none after the build.

        Today's rows are squeezed into the part of today that has passed (seconds scaled by
        seconds_today / 86,400), so they keep their order and never lie in the future.
        """
        day_index = np.asarray(day_index, dtype="int64")
        seconds = np.broadcast_to(np.asarray(seconds, dtype="int64"), day_index.shape)
        seconds = np.where(day_index == self.n_days - 1, seconds * self.seconds_today // SECONDS_PER_DAY, seconds)
        return self.dates(day_index).astype("datetime64[s]") + seconds


@dataclass(frozen=True)
class Clinic:
    """Who is who: user ids by role, and each client's therapist."""

    supervisor_ids: np.ndarray
    therapist_ids: np.ndarray
    client_ids: np.ndarray
    therapist_of_client: np.ndarray  # user id of each client's therapist
    past_clients: int = 0  # the last this many of client_ids are past clients (ops/demo/episodes.py)


def _calendar(today, weeks, now):
    first_day = today - timedelta(days=today.weekday(), weeks=weeks - 1)
    passed = SECONDS_PER_DAY if now.date() > today else int((now - datetime.combine(today, time())).total_seconds())
    return Calendar(first_day=first_day, n_days=(today - first_day).days + 1, n_weeks=weeks, seconds_today=passed)


def _people(n_clients, n_therapists, n_supervisors, n_past_clients=0):
    """User ids in the order admin, supervisors, therapists, clients (the current ones, then
    the past ones); each group of clients split evenly over therapists in order
    (client01.. -> therapist1, ...)."""
    supervisor_ids = np.arange(n_supervisors) + 2
    therapist_ids = np.arange(n_therapists) + 2 + n_supervisors
    client_ids = np.arange(n_clients + n_past_clients) + 2 + n_supervisors + n_therapists
    therapist_of_client = np.concatenate(
        [therapist_ids[np.arange(n) * n_therapists // n] for n in (n_clients, n_past_clients) if n]
    )
    return Clinic(supervisor_ids, therapist_ids, client_ids, therapist_of_client, n_past_clients)


def _users(rng, clinic, calendar):
    """Accounts in id order: admin, supervisors, therapists, clients; one shared password hash."""
    n_sup, n_ther, n_cli = len(clinic.supervisor_ids), len(clinic.therapist_ids), len(clinic.client_ids)
    width = max(2, len(str(n_cli - clinic.past_clients)))  # client01 stays client01 beside client120
    usernames = (
        ["admin"]
        + ["supervisor" + (str(k + 1) if k else "") for k in range(n_sup)]
        + [f"therapist{k + 1}" for k in range(n_ther)]
        + [f"client{k + 1:0{width}d}" for k in range(n_cli)]
    )
    first = np.array(FIRST_NAMES)
    staff = [
        f"Dr. {f} {s}"
        for f, s in zip(
            first[rng.integers(len(first), size=n_sup + n_ther)],
            np.array(SURNAMES)[rng.integers(len(SURNAMES), size=n_sup + n_ther)],
        )
    ]
    initials = np.array(list("ABCDEFGHIJKLMNOPRSTUVWY"))
    clients = [
        f"{f} {i}."
        for f, i in zip(first[rng.integers(len(first), size=n_cli)], initials[rng.integers(len(initials), size=n_cli)])
    ]
    n = len(usernames)
    joined = datetime.combine(calendar.first_day - timedelta(days=30), time(9, 0))
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "username": usernames,
            "display_name": ["Clinic Admin"] + staff + clients,
            "email": [f"{name}@demo.invalid" for name in usernames],
            "role": ["admin"] + ["supervisor"] * n_sup + ["therapist"] * n_ther + ["client"] * n_cli,
            "password_hash": _demo_password_hash(),
            "active": True,
            "failed_logins": 0,
            "locked_until": pd.Series(pd.NaT, index=range(n), dtype="datetime64[s]"),
            "sessions_valid_after": pd.Timestamp(joined),
            "created_at": pd.Timestamp(joined),
        }
    )


@functools.cache
def _demo_password_hash():
    # bcrypt is slow on purpose: hash once per process and share it among all demo accounts.
    return hash_password(DEMO_PASSWORD)
