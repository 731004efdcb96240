"""Gamma-Gamma model of how much a customer spends per purchase, and their expected value.

Fader, Hardie & Lee 2005, "RFM and CLV: Using Iso-Value Curves for Customer Base
Analysis" (Journal of Marketing Research 42(4)), in the formulation of Fader & Hardie's
note "The Gamma-Gamma Model of Monetary Value" (2013) that the lifetimes package
follows.  A customer's purchase amounts are Gamma(p, ν) with ν ~ Gamma(q, γ) across
customers, so their mean purchase amount is pν⁻¹ and the population mean is pγ/(q-1).
The model assumes spend per purchase is independent of how often the customer buys;
it is fitted on repeat purchases only, because the first purchase of a customer is
often unlike the later ones (it is also the purchase that made them a customer).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import gammaln

from pipeline.models.bgnbd import BgNbdParams, expected_purchases

_LOG_BOUND = 25.0  # keeps exp(log-parameter) finite whatever step the optimiser tries


@dataclass(frozen=True)
class GammaGammaParams:
    p: float
    q: float
    gamma: float
    n_customers: int


def _usable(x, monetary) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(x, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    if x.shape != monetary.shape or x.ndim != 1:
        raise ValueError("x and monetary must be 1-d arrays of equal length")
    keep = (x > 0) & (monetary > 0) & np.isfinite(x) & np.isfinite(monetary)
    return x[keep], monetary[keep]


def _log_likelihood(log_params: np.ndarray, x: np.ndarray, mean_amount: np.ndarray,
                    log_amount: np.ndarray) -> float:
    """Sum over customers of the log density of their mean amount m̄ given x
    (the note's marginal density of m̄): given ν, m̄ is Gamma(px, νx) as a mean of
    x Gamma(p, ν) amounts, and integrating ν ~ Gamma(q, γ) out gives this closed form."""
    p, q, gamma = np.exp(log_params)
    px = p * x
    return float(np.sum(gammaln(px + q) - gammaln(px) - gammaln(q) + q * np.log(gamma)
                        + (px - 1.0) * log_amount + px * np.log(x)
                        - (px + q) * np.log(gamma + mean_amount * x)))


def fit_gamma_gamma(x, monetary) -> GammaGammaParams:
    """Maximum-likelihood p, q, γ from repeat customers' x and mean repeat amount.

    Only customers with x > 0 and monetary > 0 are used.  Raises ValueError when
    fewer than two such customers remain, or when their amounts carry no spread to
    fit (every mean amount the same): the caller must check there is enough data.
    """
    x, mean_amount = _usable(x, monetary)
    if x.size < 2:
        raise ValueError("Gamma-Gamma needs at least two customers with repeat purchases")
    if np.ptp(mean_amount) == 0:
        raise ValueError("all mean amounts are equal: the spread of spend cannot be fitted")
    # γ carries the unit of money: fit on amounts in units of their mean, scale back.
    scale = float(np.mean(mean_amount))
    scaled = mean_amount / scale
    # log taken before scaling: a tiny amount must not underflow to log(0)
    log_scaled = np.log(mean_amount) - np.log(scale)

    def objective(log_params):
        return -_log_likelihood(log_params, x, scaled, log_scaled) / x.size

    # Start at p = 1, q = 2: population mean γ = 1 (the scaled mean), finite variance.
    result = minimize(objective, np.log([1.0, 2.0, 1.0]), method="L-BFGS-B",
                      bounds=[(-_LOG_BOUND, _LOG_BOUND)] * 3,
                      options={"ftol": 1e-13, "gtol": 1e-9, "maxiter": 2000})
    if not np.isfinite(result.fun):
        raise ValueError("Gamma-Gamma fit failed: the likelihood is not finite on this data")
    p, q, gamma = np.exp(result.x)
    return GammaGammaParams(p=float(p), q=float(q), gamma=float(gamma * scale),
                            n_customers=int(x.size))


def gamma_gamma_log_likelihood(params: GammaGammaParams, x, monetary) -> float:
    """Log-likelihood of the fitted parameters on the customers a fit would use."""
    x, mean_amount = _usable(x, monetary)
    return _log_likelihood(np.log([params.p, params.q, params.gamma]), x, mean_amount,
                           np.log(mean_amount))


def population_mean_spend(params: GammaGammaParams) -> float:
    """E[M] = pγ / (q - 1); without a finite mean (q <= 1) it is NaN."""
    return params.p * params.gamma / (params.q - 1.0) if params.q > 1.0 else float("nan")


def expected_average_spend(params: GammaGammaParams, x, monetary) -> np.ndarray:
    """Conditional expected mean purchase amount, E[ν⁻¹p | m̄, x] under the posterior
    ν | m̄, x ~ Gamma(q + px, γ + m̄x):

        E[M | p, q, γ, m̄, x] = p(γ + m̄x) / (px + q - 1)
                              = w · pγ/(q-1) + (1 - w) · m̄,  w = (q-1)/(px+q-1),

    a weighted mean of the population mean and the customer's own mean that trusts
    the customer's own amounts more the more often they bought.  x == 0 gives the
    population mean.  Where the fitted spread of spend is so wide that the mean does
    not exist (px + q <= 1, or q <= 1 for x == 0) the result is NaN.
    """
    x = np.asarray(x, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    p, q, gamma = params.p, params.q, params.gamma
    denominator = p * x + q - 1.0
    with np.errstate(invalid="ignore", divide="ignore"):
        conditional = np.where(denominator > 0, p * (gamma + monetary * x) / denominator, np.nan)
    return np.where(x > 0, conditional, population_mean_spend(params))


def expected_value(bg: BgNbdParams, gg: GammaGammaParams | None, x, t_x, T, monetary, *,
                   horizon) -> np.ndarray:
    """Expected spend over the next ``horizon`` time units (same unit as t_x and T).

    Expected purchase occasions (BG/NBD eq. 10) × expected amount per occasion.
    Undiscounted: over the horizons the pipeline uses (a year or less) a discount
    rate would change the ranking of customers hardly at all.  Multiplying the two
    expectations is what the Gamma-Gamma model's independence assumption allows.

    Without a spend model (``gg`` None, e.g. too few repeat buyers to fit one), and
    where the spend model has no finite mean, a repeat buyer's own mean amount is
    used, and for x == 0 the mean of the repeat buyers' amounts given here (NaN if
    there are none).
    """
    return value_of_orders(expected_purchases(bg, horizon, x, t_x, T), gg, x, monetary)


def value_of_orders(orders, gg: GammaGammaParams | None, x, monetary) -> np.ndarray:
    """``orders`` (expected purchase occasions, e.g. from ``expected_purchases``) ×
    expected amount per occasion, with the fallbacks described in ``expected_value``."""
    x = np.asarray(x, dtype=float)
    monetary = np.asarray(monetary, dtype=float)
    orders = np.asarray(orders, dtype=float)
    repeat = (x > 0) & np.isfinite(monetary)
    average = float(np.mean(monetary[repeat])) if repeat.any() else float("nan")
    observed = np.where(x > 0, monetary, average)
    if gg is None:
        return orders * observed
    spend = expected_average_spend(gg, x, monetary)
    return orders * np.where(np.isnan(spend), observed, spend)
