"""Issue #6 on real data: the CDNOW history as a register, run as of 1997-09-30 through
the whole pipeline; repeat buyers flagged 高 must re-buy in the next 39 weeks at a
clearly lower rate than the repeat buyers not flagged 高."""
from __future__ import annotations

import pytest

from benchmarks.cdnow_check import DATA, check

pytestmark = pytest.mark.skipif(not DATA.exists(), reason=f"CDNOW sample not at {DATA}")


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    return check(DATA, tmp_path_factory.mktemp("cdnow"))


def test_the_model_is_fitted_on_the_register_with_the_published_cdnow_estimates(outcome):
    _, model, _ = outcome
    assert model["fitted"] is True
    assert model["repeat_customers"] == 946
    # Fader, Hardie & Lee (2005): r 0.243, alpha 4.414, a 0.793, b 2.426 on these data,
    # so the register round trip kept every order day and date.
    assert model["bgnbd"]["r"] == pytest.approx(0.243, abs=0.005)
    assert model["bgnbd"]["alpha"] == pytest.approx(4.414, abs=0.05)
    assert model["bgnbd"]["a"] == pytest.approx(0.793, abs=0.01)
    assert model["bgnbd"]["b"] == pytest.approx(2.426, abs=0.05)


def test_every_customer_is_flagged_and_every_repeat_buyer_counted(outcome):
    groups, _, _ = outcome
    assert groups["all customers"].customers == 2357
    assert groups["repeat buyers"].customers == 946
    levels = sum(groups[f"repeat, {level}"].customers for level in ("高", "中", "低"))
    assert levels == 946


def test_repeat_buyers_flagged_high_rebuy_at_a_clearly_lower_rate(outcome):
    groups, _, _ = outcome
    high, rest = groups["repeat, 高"], groups["repeat, not 高"]
    assert high.customers >= 50 and rest.customers >= 50
    assert high.rate <= 0.75 * rest.rate, (high, rest)
