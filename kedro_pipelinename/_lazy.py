"""Attributes of a package imported from its submodules on first use (PEP 562)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_attributes(package: str, table: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports ``package.<table[name]>`` on first use.

    Args:
        package: The package's ``__name__``.
        table: Attribute name -> the module defining it, relative to ``package``
            (``"run.context"``, or ``"..engines.aws.runner"`` above it).

    Returns:
        The function to assign to the package's ``__getattr__``.
    """

    def __getattr__(name: str) -> Any:
        module = table.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        relative = module if module.startswith(".") else f".{module}"
        return getattr(import_module(relative, package), name)

    return __getattr__
