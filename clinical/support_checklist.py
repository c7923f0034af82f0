"""The clinical support checklist for a client who is not on track (issue #17;
docs/clinical-rules.md, "Clinical support checklist").

The six domains come from Lambert's clinical support tools (Whipple et al. 2003, J Couns
Psychol; Lambert et al. 2005, J Clin Psychol): for a client whose progress signals a risk of
treatment failure, the therapist reviews the therapeutic alliance, the client's motivation and
readiness for change, their social support, life events, the fit of the treatment (here: the
homework) and whether a medication review is due. Those studies are the source of the domains
only: the wording below is ours, and ticking an item records that it was reviewed, not a
rating from their measures.
"""

from collections.abc import Collection

# key -> label, in the order the form shows them. The keys are stored (support_checklists.reviewed,
# checked by migration 007): never rename one; a new item needs a new migration.
SUPPORT_ITEMS: dict[str, str] = {
    "alliance": "Therapeutic alliance",
    "motivation_readiness": "Motivation and readiness for change",
    "social_support": "Social support",
    "life_events": "Life events",
    "homework_fit": "Homework fit and difficulty",
    "medication_review": "Medication review",
}


def item_labels(keys: Collection[str]) -> list[str]:
    """Return the labels of item `keys` in the form's order; an unknown key is left out."""
    return [label for key, label in SUPPORT_ITEMS.items() if key in keys]
