"""Column helpers shared by the generators: nullable integers and dates (pandas)."""

import numpy as np
import pandas as pd


def _nullable(values, present):
    """Integer values with NULL where `present` is false (pandas Int64)."""
    return pd.arrays.IntegerArray(np.where(present, values, 0).astype(np.int64), ~np.asarray(present))


def _nullable_dates(calendar, day_index, present):
    dates = calendar.dates(np.where(present, day_index, 0)).astype("datetime64[s]")
    return pd.Series(np.where(present, dates, np.datetime64("NaT")), dtype="datetime64[s]")
