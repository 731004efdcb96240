"""The shop's method as a plain list of stages, run in order (spec §3).

Each stage is ``stage(state, config) -> (state, problems)``: pure, no clock, no files.
Later stages read the columns earlier ones added to ``state.customers``.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from pipeline.config import Config
from pipeline.model import Problem, State
from pipeline.rules.cadence import cadence
from pipeline.rules.care import care_tasks
from pipeline.rules.churn import churn_risk
from pipeline.rules.customer_state import customer_state
from pipeline.rules.figures import owner_figures
from pipeline.rules.grading import grade
from pipeline.rules.history import history
from pipeline.rules.receivables import receivables
from pipeline.rules.rep_day import rep_days
from pipeline.rules.win_back import win_back

Stage = Callable[[State, Config], tuple[State, list[Problem]]]

STAGES: list[Stage] = [
    history,
    customer_state,
    grade,
    cadence,
    churn_risk,       # spec §3.5; rep_days puts its churn_reasons in the task lines
    win_back,         # spec §3.1/§3.5: a regular buyer judged gone → 挽回, not daily calls
    receivables,
    care_tasks,
    rep_days,
    owner_figures,    # spec §4 统计, from everything above
]


def run_stages(state: State, config: Config, stages: Sequence[Stage] = STAGES,
               each: Callable[[Sequence[Stage]], Iterable[Stage]] = iter) -> tuple[State, list[Problem]]:
    """Run ``stages`` in order; the problems of all of them, in stage order.

    ``each`` may wrap the list, e.g. in a progress bar (the runner's business).
    """
    problems: list[Problem] = []
    for stage in each(stages):
        state, found = stage(state, config)
        problems.extend(found)
    return state, problems
