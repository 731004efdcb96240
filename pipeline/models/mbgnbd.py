"""MBG/NBD model of repeat buying: the purchase model the churn stage uses (spec §3.5).

Batislam, Denizel & Filiztekin (2007), "Empirical validation and comparison of models
for customer base analysis", International Journal of Research in Marketing 24(3).
As in the BG/NBD (``pipeline.models.bgnbd``) an active customer buys at a Poisson rate
λ ~ Gamma(r, α) and drops out after a purchase with probability p ~ Beta(a, b); the
difference is that the *first* purchase counts too.  A customer who bought once and
never again may well be gone, and the longer ago that purchase, the likelier: the
BG/NBD instead holds every one-time buyer active with certainty, which made
one-time buyers look safest when they re-buy least (issue #12).

Histories are (x, t_x, T) as made by ``pipeline.models.bgnbd.rfm_summary``.  Time is
in arbitrary units (the pipeline uses weeks); α scales with the unit, r, a, b do not.
On the CDNOW sample in weeks the fit is r = 0.5248, α = 6.183, a = 0.8914, b = 1.614.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit

from pipeline.models.bg_family import (as_arrays, count_terms, expected_given_alive,
                                         histories, maximise, simulate)

@dataclass(frozen=True)
class MbgNbdParams:
    r: float
    alpha: float
    a: float
    b: float
    log_likelihood: float
    n_customers: int


def _log_likelihood(log_params: np.ndarray, x, t_x, T, weight) -> tuple[float, np.ndarray]:
    """Sum of individual log-likelihoods and the gradient in the log-parameters.

    L = Γ(r+x)α^r/Γ(r) · B(a, b+x+1)/B(a, b) · [(α+T)^-(r+x) + a/(b+x) · (α+t_x)^-(r+x)]:
    "still active at T" plus "dropped out right after the last purchase", which for
    the MBG/NBD includes x = 0 (t_x = 0).  With (α+t_x)^-(r+x) factored out the bracket
    is a logaddexp of two terms, so no power of (α+T) overflows.
    """
    r, alpha, a, b = np.exp(log_params)
    log_ratio = np.log(alpha + T) - np.log(alpha + t_x)
    still_active = -(r + x) * log_ratio
    dropped_out = np.log(a) - np.log(b + x)
    total = (r * np.log(alpha) - (r + x) * np.log(alpha + t_x)
             + np.logaddexp(still_active, dropped_out))
    w_dropped = expit(dropped_out - still_active)   # posterior weight of "dropped out"
    w_active = 1.0 - w_dropped
    d_r = np.log(alpha) - np.log(alpha + t_x) - w_active * log_ratio
    d_alpha = (r / alpha - (r + x) / (alpha + t_x)
               - w_active * (r + x) * (1.0 / (alpha + T) - 1.0 / (alpha + t_x)))
    d_a = w_dropped / a
    d_b = -w_dropped / (b + x)
    value = weight @ total + count_terms(r, a, b, x, weight, 1.0, d_r, d_a, d_b)
    gradient = np.array([weight @ d_r, weight @ d_alpha, weight @ d_a, weight @ d_b])
    return float(value), gradient * np.array([r, alpha, a, b])


def fit_mbgnbd(x, t_x, T) -> MbgNbdParams:
    """Maximum-likelihood MBG/NBD parameters for customers' (x, t_x, T) histories.

    Raises ValueError on input no fit can be built from (empty, malformed, nobody with
    a repeat purchase); ModelNotIdentified (a ValueError) when the maximum lies at a
    parameter's limit, which the caller treats as "no model today".
    """
    h = histories(x, t_x, T)
    r, alpha, a, b, log_likelihood = maximise(
        lambda log_params: _log_likelihood(log_params, h.x, h.t_x, h.T, h.weight), h, "MBG/NBD")
    return MbgNbdParams(r=r, alpha=alpha, a=a, b=b, log_likelihood=log_likelihood, n_customers=int(h.n))


def p_alive(params: MbgNbdParams, x, t_x, T) -> np.ndarray:
    """P(still active at T | x, t_x, T) = 1 / (1 + a/(b+x) · ((α+T)/(α+t_x))^(r+x)),
    for every customer, one-time buyers (x = 0) included."""
    x, t_x, T = as_arrays(x, t_x, T)
    r, alpha, a, b = params.r, params.alpha, params.a, params.b
    log_odds = np.log(a) - np.log(b + x) + (r + x) * (np.log(alpha + T) - np.log(alpha + t_x))
    return expit(-log_odds)


def probability_of_buying(params: MbgNbdParams, t, x, t_x, T) -> np.ndarray:
    """P(at least one purchase in (T, T + t] | history) = P(alive) · (1 - ((α+T)/(α+T+t))^(r+x)):
    given activity λ ~ Gamma(r+x, α+T), and an active customer cannot drop out before
    their next purchase, so only "no purchase in t" (e^(-λt)) stands between them and it."""
    x, t_x, T = as_arrays(x, t_x, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    r, alpha = params.r, params.alpha
    none_ahead = (r + x) * (np.log(alpha + T) - np.log(alpha + T + t))
    return p_alive(params, x, t_x, T) * -np.expm1(none_ahead)


def expected_purchases(params: MbgNbdParams, t, x, t_x, T) -> np.ndarray:
    """Expected purchase occasions in (T, T + t] given the history (``t`` scalar or array)."""
    x, t_x, T = as_arrays(x, t_x, T)
    t = np.broadcast_to(np.asarray(t, dtype=float), x.shape)
    if (t < 0).any():
        raise ValueError("the horizon t must be >= 0")
    return _expected_given_alive(params, t, x, T) * p_alive(params, x, t_x, T)


def _expected_given_alive(params: MbgNbdParams, t, x, T) -> np.ndarray:
    return expected_given_alive(params.r, params.alpha, params.a, params.b, t, x, T, shift=1.0)


def simulate_mbgnbd(rng: np.random.Generator, T, r: float, alpha: float, a: float,
                    b: float) -> tuple[np.ndarray, np.ndarray]:
    """Draw (x, t_x) for customers observed for times T under the MBG/NBD (for tests and
    benchmarks).  Dropout may follow the first purchase: the number of repeat purchases
    before dropout is geometric on {0, 1, …}."""
    return simulate(rng, T, r, alpha, a, b, shift=1)
