"""Reading a dataset out of whichever catalog the installed Kedro has."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, cast

from ..names.logs import logger_for

if TYPE_CHECKING:
    from typing import TypeAlias

    from kedro.io import AbstractDataset, AbstractVersionedDataset
    from kedro.io.core import CatalogProtocol

    #: A dataset of any data: what it loads and saves is the project's own.
    Dataset: TypeAlias = AbstractDataset[Any, Any]
    VersionedDataset: TypeAlias = AbstractVersionedDataset[Any, Any]

    class RunnerCatalog(CatalogProtocol, Protocol):  # type: ignore[type-arg]
        """The catalog a runner receives, as Kedro types it: ``CatalogProtocol``,
        unparameterised as it has one type parameter in 0.19 and two in 1.x."""


logger = logger_for(__name__)


class Catalog(Protocol):
    """A Kedro catalog of any supported version, as this package asks it.

    Kedro 1.x ``DataCatalog`` (and ``SharedMemoryDataCatalog``), 0.19's
    ``DataCatalog`` and ``KedroDataCatalog`` all answer ``name in catalog``; the
    dataset lookup differs between them (``get`` or ``_get_dataset``), so
    ``dataset_in`` looks it up by feature rather than through this protocol.
    """

    def __contains__(self, dataset_name: str, /) -> bool: ...


class SavingCatalog(Catalog, Protocol):
    """A catalog a runner saves to: every supported Kedro catalog."""

    def save(self, name: str, data: object, /) -> None: ...


def dataset_in(catalog: Catalog, name: str) -> Dataset | None:
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
            return cast("Dataset | None", getter(name))
        private_getter = getattr(catalog, "_get_dataset", None)
        if callable(private_getter):
            return cast("Dataset | None", private_getter(name))
    except Exception:
        logger.debug("Could not look up %r in %r", name, catalog, exc_info=True)
    return None
