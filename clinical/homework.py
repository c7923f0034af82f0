"""Homework categories and schedules (CLINICAL.md, "Homework and compliance")."""

CATEGORIES = {
    "thought_record": "Thought record",
    "behavioural_activation": "Behavioural activation",
    "exposure": "Exposure",
    "relaxation_mindfulness": "Relaxation / mindfulness",
    "skills_practice": "Skills practice",
    "reading_psychoeducation": "Reading / psychoeducation",
    "other": "Other",
}

# What each logged status is worth toward compliance.
CREDIT = {"done": 1.0, "partly": 0.5, "not_done": 0.0}


def describe_schedule(schedule, times_per_week=None, due_on=None):
    """Return a schedule in plain words, e.g. "3 times a week", "daily" or "once, by 4 Dec"."""
    if schedule == "once":
        return f"once, by {due_on:%a %d %b}"
    if times_per_week == 7:
        return "daily"
    if times_per_week == 14:
        return "twice a day"
    if times_per_week == 1:
        return "once a week"
    return f"{times_per_week} times a week"
