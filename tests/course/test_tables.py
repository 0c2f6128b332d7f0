"""Laws of tl.show's tables: a missing value is an empty cell, never the words None, nan or <NA>."""

import math

import pandas as pd
import pytest

import tierlab as tl
from tierlab.course.tables import table


def test_a_missing_value_is_an_empty_cell_whatever_its_kind():
    frame = pd.DataFrame({"rule_id": [None, "web-sg-in-3000"], "n": [float("nan"), 1.0],
                          "x": pd.array([pd.NA, 2], dtype="Int64"), "t": [pd.NaT, pd.Timestamp(0)]})
    html = table(frame)._repr_html_()
    for word in (">None<", ">nan<", ">NaN<", "&lt;NA&gt;", ">NaT<"):
        assert word not in html
    assert html.count("<td></td>") == 4 and "web-sg-in-3000" in html


def test_a_client_that_never_recovers_has_no_number_and_a_reason():
    summary = tl.failover_timeline(tl.load("seed-as-written")).summary()
    assert summary["recovers_after_s"].dtype == float
    assert all(math.isnan(v) for v in summary["recovers_after_s"])  # the NACL slip: nobody recovers
    assert summary["reason"].str.len().min() > 0
    fixed = tl.failover_timeline(tl.load("seed")).summary().set_index("client")
    assert fixed.loc["dns", "recovers_after_s"] > 0 and math.isnan(fixed.loc["single-az", "recovers_after_s"])


@pytest.mark.parametrize("wrong", [None, 42, "seed"])
def test_show_refuses_what_is_not_a_table_by_name_with_the_fix(wrong):
    """A learner's ``tl.show(print(...))`` or ``tl.show(x)`` of a number: a message and a hint, not a TypeError."""
    with pytest.raises(tl.ParameterError) as info:
        tl.show(wrong)
    assert f"tl.show takes a table, got {type(wrong).__name__}" in info.value.message
    assert ".frame()" in info.value.hint
