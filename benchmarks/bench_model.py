"""How long the churn/value model takes on a large customer base (spec §3.5, issue #6).

Simulates BG/NBD purchase histories and Gamma-Gamma spend for 50,000 customers
(parameters near the CDNOW estimates, weeks as the unit), then times the BG/NBD fit,
P(alive), expected purchases, the Gamma-Gamma fit and the expected value.  The
target is a BG/NBD fit well under 10 seconds.

    python benchmarks/bench_model.py [--customers N] [--seed S]
"""
from __future__ import annotations

import argparse
import time
from contextlib import contextmanager

import numpy as np

from pipeline.models.bgnbd import expected_purchases, fit_bgnbd, p_alive, simulate_bgnbd
from pipeline.models.spend_model import expected_value, fit_gamma_gamma

TRUE_BG = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
TRUE_GG = {"p": 6.25, "q": 3.74, "gamma": 15.44}


@contextmanager
def timed(label: str):
    start = time.perf_counter()
    yield
    print(f"{label:<34} {time.perf_counter() - start:8.3f} s")


def simulate(customers: int, seed: int):
    rng = np.random.default_rng(seed)
    # customers join over a year and are observed to the end of it, as in a register
    T = rng.uniform(1.0, 52.0, customers)
    x, t_x = simulate_bgnbd(rng, T, **TRUE_BG)
    nu = rng.gamma(TRUE_GG["q"], 1.0 / TRUE_GG["gamma"], customers)
    repeat = x > 0
    monetary = np.zeros(customers)
    monetary[repeat] = rng.gamma(TRUE_GG["p"] * x[repeat], 1.0 / (nu[repeat] * x[repeat]))
    return x, t_x, T, monetary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with timed(f"simulate {args.customers:,} customers"):
        x, t_x, T, monetary = simulate(args.customers, args.seed)
    print(f"  repeat buyers: {int((x > 0).sum()):,}, mean x: {x.mean():.2f}")
    with timed("fit BG/NBD"):
        bg = fit_bgnbd(x, t_x, T)
    print(f"  r={bg.r:.3f} alpha={bg.alpha:.3f} a={bg.a:.3f} b={bg.b:.3f} "
          f"(true {TRUE_BG})  LL={bg.log_likelihood:.1f}")
    with timed("P(alive)"):
        alive = p_alive(bg, x, t_x, T)
    with timed("expected purchases, next 39 weeks"):
        orders = expected_purchases(bg, 39.0, x, t_x, T)
    print(f"  mean P(alive)={alive.mean():.3f}, mean expected purchases={orders.mean():.3f}")
    with timed("fit Gamma-Gamma"):
        gg = fit_gamma_gamma(x, monetary)
    print(f"  p={gg.p:.2f} q={gg.q:.2f} gamma={gg.gamma:.2f} (true {TRUE_GG}) "
          f"on {gg.n_customers:,} repeat buyers")
    with timed("expected value, next 52 weeks"):
        value = expected_value(bg, gg, x, t_x, T, monetary, horizon=52.0)
    print(f"  total expected value: {value.sum():,.0f}")


if __name__ == "__main__":
    main()
