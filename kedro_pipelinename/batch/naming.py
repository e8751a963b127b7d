"""Job names: which names an engine accepts, and how a plan makes them.

An engine declares its ``JobNameRule`` in its ``EngineSpec``; the plan names its
jobs with it. Its own module because both the engine interface and the plan
use it, and neither may import the other for it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from attrs import define


def _sanitise(text: str, invalid: re.Pattern[str]) -> str:
    cleaned = invalid.sub("-", text).strip("-_")
    return re.sub(r"-{2,}", "-", cleaned) or "job"


def _short_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:8]


@define(frozen=True, kw_only=True)
class JobNameRule:
    """Which job names an engine accepts, and how the plan makes them.

    Attributes:
        max_length: The longest name (AWS Batch: 128).
        characters: The characters a name may hold, as the inside of a regular
            expression's ``[...]`` (AWS Batch: ``A-Za-z0-9_-``). Others become
            ``-``. A name always starts with a letter or digit.
        case_insensitive: Whether two names that differ only in case clash (AWS
            Batch's name filter compares so).

    Example:
        >>> JobNameRule(max_length=128).names("kedro", ["a.b", "a b", "c"])
        ['kedro-a-b', 'kedro-a-b-2', 'kedro-c']
    """

    max_length: int
    characters: str = "A-Za-z0-9_-"
    case_insensitive: bool = True

    def valid(self, name: str) -> bool:
        """Whether the engine accepts ``name``."""
        pattern = rf"[A-Za-z0-9][{self.characters}]{{0,{self.max_length - 1}}}"
        return re.fullmatch(pattern, name) is not None

    def _fit(self, base: str, suffix: str) -> str:
        return base[: self.max_length - len(suffix)].rstrip("-_") + suffix

    def names(self, prefix: str, groups: Sequence[str]) -> list[str]:
        """A valid, readable, unique name for each group, in order.

        ``<prefix>-<group>`` with every character the engine refuses replaced by
        ``-``; a name that is too long is cut and ends in a short hash of the
        group; a name already taken gets ``-2``, ``-3``, ... So names are unique
        within the run and the same for the same pipeline (which is what lets a
        second driver of the run find the first one's jobs).
        """
        invalid = re.compile(rf"[^{self.characters}]+")
        taken: set[str] = set()
        # The next suffix number to try for each base (1: the base itself). Names
        # are only ever added to ``taken``, so every number tried before for a
        # base is still taken: k groups with one base cost O(k), not O(k**2).
        next_number: dict[str, int] = {}
        names: list[str] = []
        for group in groups:
            base = f"{prefix}-{_sanitise(group, invalid)}"
            if len(base) > self.max_length:
                base = self._fit(base, f"-{_short_hash(group)}")
            number = next_number.get(base, 1)
            candidate = base if number == 1 else self._fit(base, f"-{number}")
            # Bounded: at most len(groups) names are taken, and each number gives
            # another name (it ends the name after its last hyphen).
            for _ in range(len(groups) + 1):
                if self._key(candidate) not in taken:
                    break
                number += 1
                candidate = self._fit(base, f"-{number}")
            next_number[base] = number + 1
            taken.add(self._key(candidate))
            names.append(candidate)
        return names

    def _key(self, name: str) -> str:
        return name.lower() if self.case_insensitive else name
