"""Issues #6 and #12 on real data: the CDNOW history as a register, run through the whole
pipeline at three as-of dates spread over the log; the rest of the log says who bought
again.  At every date the 流失风险 levels must order the re-buy rate 低 > 中 > 高, 高 must
re-buy at most half as often as 低, and the 3-level ordering must predict "did not buy
again" with an AUC of at least 0.68 (spec §3.5)."""
from __future__ import annotations

from datetime import date

import pytest

from benchmarks.cdnow_check import AS_OF, AS_OF_DATES, DATA, LEVELS, check, check_date, load_cdnow

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"CDNOW sample not at {DATA}")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    return check(DATA, tmp_path_factory.mktemp("cdnow"))


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    transactions = load_cdnow(DATA)
    work = tmp_path_factory.mktemp("cdnow_dates")
    return {as_of: check_date(transactions, work, as_of)[3] for as_of in AS_OF_DATES}


def test_the_model_is_fitted_on_the_register_with_the_published_cdnow_estimates(outcome):
    _, model, _ = outcome
    assert model["fitted"] is True
    assert model["repeat_customers"] == 946
    # MBG/NBD on these data (Batislam et al. 2007's model; lifetimes' and our own fit):
    # r 0.5248, alpha 6.183, a 0.8914, b 1.614, so the register round trip kept every order day.
    published = {"r": 0.5248, "alpha": 6.183, "a": 0.8914, "b": 1.614}
    for name, value in published.items():
        assert model["mbgnbd"][name] == pytest.approx(value, rel=0.02), name
    assert "bgnbd" not in model


def test_every_customer_is_flagged_and_every_repeat_buyer_counted(outcome):
    groups, _, _ = outcome
    assert groups["all customers"].customers == 2357
    assert groups["repeat buyers"].customers == 946
    levels = sum(groups[f"repeat, {level}"].customers for level in ("高", "中", "低"))
    assert levels == 946


@pytest.mark.parametrize("as_of", AS_OF_DATES, ids=str)
def test_levels_order_the_rebuy_rate_at_every_date(tables, as_of):
    result = tables[as_of]
    low, medium, high = (result.rows[level][0].rate for level in LEVELS)
    assert low > medium > high, result
    assert high <= 0.5 * low, result
    assert result.auc >= 0.68, result
    assert result.holds


@pytest.mark.parametrize("as_of", AS_OF_DATES, ids=str)
def test_every_customer_has_a_level_and_no_old_one_time_buyer_is_low(tables, as_of):
    result = tables[as_of]
    assert sum(result.rows[level][0].customers for level in LEVELS) == 2357
    # Everyone first bought in Q1 1997, so a one-time buyer's order is ≥ 2 months old.
    assert result.rows["低"][1].customers == 0


def test_the_published_date_is_among_the_checked_ones_or_close():
    assert min(abs((d - AS_OF).days) for d in AS_OF_DATES) <= 62
    assert AS_OF_DATES[0] <= date(1997, 6, 30) and AS_OF_DATES[-1] >= date(1997, 11, 1)
