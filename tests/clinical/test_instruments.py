import pytest

from clinical.instruments import ANSWERS, GAD7_ITEMS, PHQ9_ITEMS, band, raises_risk_flag, score


@pytest.mark.parametrize(
    "total,expected",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately severe"),
        (19, "moderately severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_bands_at_every_edge(total, expected):
    assert band("PHQ-9", total) == expected


@pytest.mark.parametrize(
    "total,expected",
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_bands_at_every_edge(total, expected):
    assert band("GAD-7", total) == expected


@pytest.mark.parametrize("instrument,total", [("PHQ-9", 28), ("GAD-7", 22), ("PHQ-9", -1)])
def test_totals_outside_the_scale_are_refused(instrument, total):
    with pytest.raises(ValueError):
        band(instrument, total)


@pytest.mark.parametrize("item_9,flagged", [(0, False), (1, True), (2, True), (3, True)])
def test_item_9_flags_any_answer_above_zero_whatever_the_total(item_9, flagged):
    answers = [0] * 8 + [item_9]
    assert raises_risk_flag("PHQ-9", answers) is flagged


def test_totals_need_every_item():
    assert score("PHQ-9", [3] * 9) == 27
    assert score("GAD-7", [2] * 7) == 14
    with pytest.raises(ValueError):
        score("PHQ-9", [1] * 8 + [None])
    with pytest.raises(ValueError):
        score("GAD-7", [1] * 6)


def test_wording_matches_the_instruments():
    assert len(PHQ9_ITEMS) == 9 and len(GAD7_ITEMS) == 7
    assert ANSWERS == {0: "Not at all", 1: "Several days", 2: "More than half the days", 3: "Nearly every day"}
    assert PHQ9_ITEMS[8].startswith("Thoughts that you would be better off dead")
