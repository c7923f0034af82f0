"""Cohort tables for supervisors and therapists: outcome rates per group, with small cells hidden.

Any cell built from fewer than 5 clients reads "<5" instead of a number, so that no
client can be singled out from a summary.
"""
import pandas as pd

from clinical.outcomes import outcome_rates

SMALL_CELL = 5
SUPPRESSED = "<5"
RATE_MEASURES = ("finished treatment", "recovery", "reliable improvement", "reliable deterioration",
                 "reliable recovery")


def _percent(rate):
    return "no data" if rate.rate is None else f"{rate.rate:.0%}"


def group_outcomes(classified, by, labels=None):
    """Return one row per value of column `by` of classified episodes, every cell suppressed
    when fewer than 5 clients stand behind it.

    Columns: the group, Clients, Median compliance, then one column per outcome rate
    (its own denominator decides suppression: e.g. recovery counts only clients who
    finished and were a case at the start). `labels` renames the group values.
    """
    rows = []
    for key, group in classified.groupby(by, sort=True):
        rates = outcome_rates(group)
        row = {by: labels.get(key, key) if labels else key,
               "Clients": str(len(group)) if len(group) >= SMALL_CELL else SUPPRESSED}
        measured = group["compliance"].dropna()
        row["Median compliance"] = (f"{measured.median():.0%}" if len(measured) >= SMALL_CELL
                                    else SUPPRESSED if len(measured) else "no homework set")
        for measure in RATE_MEASURES:
            rate = rates[measure]
            row[measure.capitalize()] = _percent(rate) if rate.denominator >= SMALL_CELL else SUPPRESSED
        rows.append(row)
    return pd.DataFrame(rows)


def cohort_tiles(classified, recent_compliance, today):
    """Return the headline figures of a cohort as {name: (value text, detail text)}.

    `classified`: classified episodes with `active` and `last_log`; `recent_compliance`:
    per active episode, compliance over the last 4 weeks. Suppressed below 5 clients.
    """
    active = classified[classified["active"]]
    logged = pd.to_datetime(active["last_log"]) >= pd.Timestamp(today) - pd.Timedelta(days=6)
    tiles = {}

    def tile(name, numerator, denominator, unit="clients"):
        if denominator < SMALL_CELL:
            tiles[name] = (SUPPRESSED, f"fewer than {SMALL_CELL} {unit}")
        else:
            tiles[name] = (f"{numerator / denominator:.0%}", f"{numerator} of {denominator} {unit}")

    tiles["Active clients"] = (str(len(active)) if len(active) >= SMALL_CELL or not len(active) else SUPPRESSED,
                               "in care now")
    tile("Engagement", int(logged.sum()), len(active), "active clients logged in the last 7 days")
    measured = recent_compliance.dropna()
    tiles["Median 4-week compliance"] = (
        (f"{measured.median():.0%}", f"{len(measured)} clients with homework set")
        if len(measured) >= SMALL_CELL else (SUPPRESSED, f"fewer than {SMALL_CELL} clients with homework"))
    for measure, rate in outcome_rates(classified).items():
        tile(measure.capitalize(), rate.numerator, rate.denominator,
             "episodes" if measure == "finished treatment" else
             "who finished" if "deterioration" in measure or measure == "reliable improvement"
             else "who finished as a case")
    return tiles
