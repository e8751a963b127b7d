"""Reading a dataset out of whichever catalog the installed Kedro has."""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def dataset_in(catalog: Any, name: str) -> Any:
    """The dataset ``name`` of ``catalog``, or ``None``, on every supported catalog.

    Kedro 1.x ``DataCatalog`` and 0.19 ``KedroDataCatalog`` have ``get(name)``
    (which resolves dataset factory patterns); 0.19's ``DataCatalog`` only has
    ``_get_dataset(name)``.

    Args:
        catalog: A Kedro catalog of any supported version.
        name: The dataset name.

    Returns:
        The dataset object, or ``None`` when the catalog cannot resolve ``name``.
    """
    try:
        getter = getattr(catalog, "get", None)
        if callable(getter):
            return getter(name)
        private_getter = getattr(catalog, "_get_dataset", None)
        if callable(private_getter):
            return private_getter(name)
    except Exception:
        logger.debug("Could not look up %r in %r", name, catalog, exc_info=True)
    return None
