"""A JSON file dataset: Kedro core ships none, and the demo needs no extra package.

The demo writes this file into the project it creates (``datasets.py``), and the
test suite uses the same class, so there is one JSON dataset to maintain.
"""

from __future__ import annotations

import json
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractVersionedDataset, DatasetError, Version


class JSONFileDataset(AbstractVersionedDataset[Any, Any]):
    """Loads and saves JSON; ``versioned: true`` works as in kedro-datasets."""

    def __init__(
        self,
        filepath: str,
        version: Version | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(filepath=PurePosixPath(filepath), version=version)
        self.metadata = metadata

    def load(self) -> Any:
        return json.loads(Path(str(self._get_load_path())).read_text())

    def save(self, data: Any) -> None:
        path = Path(str(self._get_save_path()))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")

    def _exists(self) -> bool:
        try:
            path = self._get_load_path()
        except DatasetError:  # versioned, and no version saved yet
            return False
        return Path(str(path)).exists()

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(self._filepath), "version": self._version}
