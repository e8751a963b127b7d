"""Loggers whose records are shown verbatim, whatever handler a project uses.

Kedro's ``RichHandler`` reads Rich markup in every message (its default is
``markup=True``), so a job's log line quoted in a message,
``KeyError("missing columns [bold] and [red] in [client_1.X]")``, would be shown
as ``KeyError: 'missing columns  and  in '``. Every module of this package logs
through ``logger_for``, whose filter marks each record ``markup=False``: Rich's
handler reads that per record, and other handlers ignore the attribute.
"""

from __future__ import annotations

import logging


def _verbatim(record: logging.LogRecord) -> bool:
    record.markup = False  # RichHandler: getattr(record, "markup", self.markup)
    return True


def logger_for(name: str) -> logging.Logger:
    """``logging.getLogger(name)``, its records never read as markup."""
    logger = logging.getLogger(name)
    if _verbatim not in logger.filters:
        logger.addFilter(_verbatim)
    return logger
