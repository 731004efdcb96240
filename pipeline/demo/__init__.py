"""The demo shop a fresh clone runs on, and the big registers the benchmarks use.

Imported only by the runner (fresh-clone demo) and the benchmarks; imports nothing else
of the package.
"""

from pipeline.demo.shop import write_demo_register, write_register

__all__ = ["write_demo_register", "write_register"]
