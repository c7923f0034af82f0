"""Homework categories and schedules (docs/clinical-rules.md, "Homework and compliance")."""

from datetime import date

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


def describe_schedule(schedule: str, times_per_week: int | None = None, due_on: date | None = None) -> str:
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


# A small library of common CBT homework to start from; the therapist adapts the text.
TEMPLATES = (
    {
        "title": "Thought record",
        "category": "thought_record",
        "schedule": "weekly",
        "times_per_week": 3,
        "instructions": "When your mood drops, write down the situation, the automatic thought, the feeling "
        "(0-100), the evidence for and against the thought, and a more balanced thought.",
    },
    {
        "title": "Activity scheduling",
        "category": "behavioural_activation",
        "schedule": "weekly",
        "times_per_week": 5,
        "instructions": "Plan one activity for the day that gives you a sense of pleasure or achievement. "
        "Afterwards rate pleasure and achievement from 0 to 10.",
    },
    {
        "title": "Graded exposure step",
        "category": "exposure",
        "schedule": "weekly",
        "times_per_week": 3,
        "instructions": "Do the next step on your fear ladder. Stay until your anxiety has come down by about "
        "half. Rate your anxiety (0-100) before, at the peak and at the end.",
    },
    {
        "title": "Breathing practice",
        "category": "relaxation_mindfulness",
        "schedule": "weekly",
        "times_per_week": 7,
        "instructions": "Ten minutes of slow breathing: in for 4, hold for 2, out for 6. Notice where your "
        "mind goes and bring it back gently.",
    },
    {
        "title": "Mindful walk",
        "category": "relaxation_mindfulness",
        "schedule": "weekly",
        "times_per_week": 3,
        "instructions": "A 15-minute walk paying attention to what you see, hear and feel, without judging.",
    },
    {
        "title": "Problem-solving worksheet",
        "category": "skills_practice",
        "schedule": "weekly",
        "times_per_week": 1,
        "instructions": "Pick one problem. List possible solutions, weigh pros and cons, choose one, plan the "
        "first step and when you will take it.",
    },
    {
        "title": "Worry time",
        "category": "skills_practice",
        "schedule": "weekly",
        "times_per_week": 7,
        "instructions": "Postpone worries to a fixed 15-minute worry time each day. Write them down when they "
        "come; in worry time, sort them into ones you can act on and ones you cannot.",
    },
    {
        "title": "Read: understanding depression",
        "category": "reading_psychoeducation",
        "schedule": "once",
        "times_per_week": None,
        "instructions": "Read the leaflet and note one thing that fits your experience and one question for "
        "our next session.",
    },
)
