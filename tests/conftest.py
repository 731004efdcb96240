"""Shared test set-up: every test starts with the pipeline logger as Python leaves it.

``runlog.setup_logging`` (called by every run) stops the "pipeline" logger from
propagating; without this reset, a later test's ``caplog`` would see nothing.
"""
import logging

import pytest

from pipeline import messages


@pytest.fixture(autouse=True)
def fresh_logger_and_language():
    yield
    logger = logging.getLogger("pipeline")
    for handler in [h for h in logger.handlers if getattr(h, "_runlog", False)]:
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = True
    messages.set_language("zh")
