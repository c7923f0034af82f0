"""Every public data-layer function refuses principals outside its scope.

Functions are discovered, so one added later is covered without touching this file
(unless it takes an argument this file has no sample for: then the test says so).
"""

import importlib
import inspect
import pkgutil
from datetime import date, time, timedelta

import pytest

import data_layer
import ops
from data_layer.core.access import LOGIN, ROLES, AccessDenied
from tests.conftest import PASSWORD

# The packages whose public functions are checked, walked to every depth: the data layer and the
# operations tools built on it (ops.maintenance is the admin's "back up now").
PACKAGES = (data_layer, ops)
# Modules and packages that are plumbing below the access rules: they take no principal.
# Named as in the ids below: data_layer's modules without the prefix, ops's with theirs.
# ops.scheduler and ops.mailer are the app's own machinery (reminders queued and sent every minute,
# not a user's request): they take no principal, and what they write holds no clinical data; so is
# ops.worker, the scheduler's own process in server mode.
INFRASTRUCTURE_MODULES = {
    "core",
    "ops.backup",
    "ops.backup_service",
    "ops.demo",
    "ops.new_clinic",
    "ops.scheduler",
    "ops.mailer",
    "ops.worker",
}
# Plain helpers inside access-controlled modules that take no principal.
INFRASTRUCTURE_FUNCTIONS = {"users.hash_password", "users.create_first_admin", "login_sessions.end_sessions_of_user"}
# Parameters that name a record: given one of the other team's, any non-admin is refused.
RECORD_PARAMETERS = {
    "client_id",
    "therapist_id",
    "supervisor_id",
    "user_id",
    "assignment_id",
    "homework_log_id",
    "mood_log_id",
    "paused_period_id",
    "risk_flag_id",
}


def data_layer_functions():
    """Yield (module, name, function) for every public function of every module of PACKAGES, sub-packages
    included; a package's `__main__` (its command line) is left out."""
    for package in PACKAGES:
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package.__name__}."):
            if info.name.endswith(".__main__"):
                continue
            module = importlib.import_module(info.name)
            short = info.name.removeprefix("data_layer.")
            for name, function in inspect.getmembers(module, inspect.isfunction):
                if function.__module__ == module.__name__ and not name.startswith("_"):
                    yield short, name, function


def is_infrastructure(module):
    return any(module == name or module.startswith(f"{name}.") for name in INFRASTRUCTURE_MODULES)


def scoped_functions():
    return [
        (f"{module}.{name}", function)
        for module, name, function in data_layer_functions()
        if not is_infrastructure(module) and f"{module}.{name}" not in INFRASTRUCTURE_FUNCTIONS
    ]


def other_team_arguments(function, world):
    """Arguments that point at team b's records, for a call made by team a."""
    samples = {
        "client_id": world.client_b.user_id,
        "therapist_id": world.therapist_b.user_id,
        "supervisor_id": world.supervisor_b.user_id,
        "user_id": world.client_b.user_id,
        "assignment_id": world.assignment_b,
        "homework_log_id": world.homework_log_b,
        "mood_log_id": world.mood_log_b,
        "paused_period_id": world.paused_period_b,
        "risk_flag_id": world.risk_flag_b,
        "username": "client_b",
        "display_name": "New Person",
        "password": PASSWORD,
        "new_password": "another-long-password",
        "role": "client",
        "started_on": date.today(),
        "starts_on": date.today(),
        "ends_on": date.today() + timedelta(days=2),
        "window_start": date.today() - timedelta(days=28),
        "window_end": date.today(),
        "since": date.today() - timedelta(days=28),
        "log_date": date.today(),
        "status": "done",
        "mood": 6,
        "instrument": "GAD-7",
        "answers": [1, 1, 1, 1, 1, 1, 1],
        "title": "Walk",
        "category": "behavioural_activation",
        "schedule": "weekly",
        "session_date": date.today(),
        "ended_on": date.today(),
        "reason": "completed",
        "attended": True,
        "every_days": 7,
        "note": "Followed up",
        "reviewed": ["alliance", "homework_fit"],
        "changes": "Smaller first step for the homework.",
        "target_dir": None,
        "token": "not-a-session-token",
        "idle_limit": timedelta(minutes=30),
        "lifetime": timedelta(hours=12),
        "enabled": True,
        "send_at": time(18, 0),
        "days": [1, 2, 3, 4, 5],
        "weekday": 1,
    }
    arguments = {}
    for name, parameter in list(inspect.signature(function).parameters.items())[2:]:
        if parameter.default is not inspect.Parameter.empty and name not in RECORD_PARAMETERS:
            continue
        if name not in samples:
            pytest.fail(f"tests/data_layer/test_access.py needs a sample value for parameter {name!r}")
        arguments[name] = samples[name]
    return arguments


def principal_of(world, role):
    return LOGIN if role == "login" else getattr(world, {"admin": "admin"}.get(role, f"{role}_a"))


def denied_count(cur):
    return cur.execute("SELECT count(*) FROM audit_log WHERE outcome = 'denied'").fetchone()[0]


def test_every_public_function_is_scoped_or_declared_infrastructure():
    for qualified, function in scoped_functions():
        parameters = list(inspect.signature(function).parameters)
        assert parameters[:2] == ["cur", "principal"], f"{qualified} must take (cur, principal, *, ...)"
        assert hasattr(function, "allowed_roles"), f"{qualified} must be wrapped by access.allowed_roles"
        assert function.__doc__, f"{qualified} needs a docstring saying what it is limited to"


@pytest.mark.parametrize(
    "qualified,function", scoped_functions(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_roles_outside_the_function_are_refused_and_audited(qualified, function, cur, world):
    for role in set(ROLES) | {"login"}:
        if role in function.allowed_roles:
            continue
        before = denied_count(cur)
        with pytest.raises(AccessDenied):
            function(cur, principal_of(world, role), **other_team_arguments(function, world))
        assert denied_count(cur) == before + 1, f"{qualified} as {role}: denial not audited"


@pytest.mark.parametrize(
    "qualified,function", scoped_functions(), ids=lambda value: value if isinstance(value, str) else ""
)
def test_allowed_roles_never_reach_the_other_team(qualified, function, cur, world):
    arguments = other_team_arguments(function, world)
    names_a_record = RECORD_PARAMETERS & set(arguments)
    # An admin's scope is every account, and the login gate's is the credentials it is shown.
    for role in function.allowed_roles - {"admin", "login"}:
        principal = principal_of(world, role)
        if names_a_record:
            with pytest.raises(AccessDenied):
                function(cur, principal, **arguments)
        else:
            result = function(cur, principal, **arguments)
            assert "Bee" not in repr(result), f"{qualified} as {role} returned team b's data"
