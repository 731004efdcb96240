"""The shop's method (spec §3) as pure stages ``(state, config) -> (state, problems)``.

``stages.STAGES`` is the ordered list.  May import the spine, ``dates`` and ``models``;
never a file, the clock, or the read / write-back / report / mail / ops parts.
"""

from pipeline.rules.stages import STAGES, run_stages

__all__ = ["STAGES", "run_stages"]
