"""PHQ-9 and GAD-7: items, answers, totals, severity bands and the item-9 risk rule.

Sources: Kroenke, Spitzer & Williams 2001 (PHQ-9); Spitzer et al. 2006 (GAD-7).
"""

from collections.abc import Sequence
from numbers import Integral
from typing import Any

ANSWERS = {0: "Not at all", 1: "Several days", 2: "More than half the days", 3: "Nearly every day"}
ATTRIBUTION = "PHQ-9 and GAD-7 © Pfizer Inc., free to reproduce"

PHQ9_ITEMS = (
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
)
GAD7_ITEMS = (
    "Feeling nervous, anxious or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid as if something awful might happen",
)
ITEMS = {"PHQ-9": PHQ9_ITEMS, "GAD-7": GAD7_ITEMS}

# (lowest total of the band, band name), in rising order.
BANDS = {
    "PHQ-9": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "moderately severe"), (20, "severe")),
    "GAD-7": ((0, "minimal"), (5, "mild"), (10, "moderate"), (15, "severe")),
}
MAX_TOTAL = {"PHQ-9": 27, "GAD-7": 21}


def score(instrument: str, answers: Sequence[Any]) -> int:
    """Return the total of a complete set of answers (each 0-3).

    Raises ValueError when an item is missing or out of range: no total is
    computed from an incomplete questionnaire.
    """
    _check_instrument(instrument)
    expected = len(ITEMS[instrument])
    if len(answers) != expected or any(a is None for a in answers):
        raise ValueError(f"{instrument} needs an answer to each of its {expected} items.")
    if any(isinstance(a, bool) or not isinstance(a, Integral) or a not in ANSWERS for a in answers):
        raise ValueError("Each answer is 0, 1, 2 or 3.")
    return sum(answers)


def band(instrument: str, total: float) -> str:
    """Return the severity band of a total, e.g. band("PHQ-9", 10) == "moderate"."""
    _check_instrument(instrument)
    if isinstance(total, bool) or total != int(total) or not 0 <= total <= MAX_TOTAL[instrument]:
        raise ValueError(f"A {instrument} total is between 0 and {MAX_TOTAL[instrument]}.")
    name = None
    for lowest, band_name in BANDS[instrument]:
        if total >= lowest:
            name = band_name
    assert name is not None  # every total from 0 up has a band (the first starts at 0)
    return name


def _check_instrument(instrument: str) -> None:
    if instrument not in ITEMS:
        raise ValueError(f"Unknown questionnaire {instrument!r}: use {' or '.join(ITEMS)}.")


def raises_risk_flag(instrument: str, answers: Sequence[int | None]) -> bool:
    """Return True when PHQ-9 item 9 is answered above 0 (whatever the total)."""
    return instrument == "PHQ-9" and answers[8] is not None and answers[8] > 0
