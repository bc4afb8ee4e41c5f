"""Where the inputs are in time: the CloudTrail days a local folder holds, and the dated snapshot
folders under a snapshot root (`<root>/YYYY-MM-DD/<account_id>/…`), of which a run as of a day
uses the newest taken on or before it."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from pipelines.lib.land.cloudtrail import file_day

_DAY_NAME = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class SnapshotNotFound(Exception):
    """No snapshot folder covers the as-of day; the message says where it looked."""


def local_cloudtrail_days(folder: Path) -> tuple[date, date] | None:
    """The first and last delivery day of the log files under a local CloudTrail folder (from
    their `YYYY/MM/DD` folders or delivery names, as landing dates them), or None if it holds
    none. Walks folder names only where the layout dates them, so a large capture costs a
    directory listing, not a read."""
    days: set[date] = set()
    for current, dirs, files in os.walk(folder):
        parts = Path(current).parts[-3:]
        day = _folder_day(parts) if len(parts) == 3 else None
        if day is not None:
            days.add(day)
            dirs[:] = []
            continue
        for name in files:
            found = file_day(Path(current) / name)
            if found is not None:
                days.add(found)
    return (min(days), max(days)) if days else None


def _folder_day(parts: tuple[str, ...]) -> date | None:
    """The day a `YYYY/MM/DD` folder stands for (None for any other folder)."""
    year, month, day = parts
    if not (len(year) == 4 and len(month) == len(day) == 2 and (year + month + day).isdigit()):
        return None
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def dated_snapshots(root: Path) -> list[tuple[date, Path]]:
    """The snapshot folders of a root, oldest first: its subfolders named `YYYY-MM-DD`."""
    found: list[tuple[date, Path]] = []
    if not root.is_dir():
        return found
    for child in root.iterdir():
        if child.is_dir() and _DAY_NAME.match(child.name):
            try:
                found.append((date.fromisoformat(child.name), child))
            except ValueError:
                continue
    return sorted(found)


@dataclass(frozen=True)
class SnapshotSource:
    """Where snapshots come from: a root of dated folders, or one fixed folder (`ciem run
    --snapshot DIR`), which then serves every as-of day."""

    root: Path | None = None
    folder: Path | None = None

    def __post_init__(self) -> None:
        if (self.root is None) == (self.folder is None):
            raise ValueError("a snapshot source is either a root of dated folders or one folder")

    def describe(self) -> str:
        return f"snapshot root {self.root}" if self.root is not None else f"snapshot {self.folder}"

    def first_day(self) -> date | None:
        """The first as-of day this source can serve (None: any day)."""
        if self.root is None:
            return None
        snapshots = dated_snapshots(self.root)
        return snapshots[0][0] if snapshots else None

    def for_day(self, as_of: date) -> Path:
        """The snapshot a run as of `as_of` uses: the newest dated folder on or before it."""
        if self.folder is not None:
            if not self.folder.is_dir():
                raise SnapshotNotFound(f"snapshot folder not found: {self.folder}")
            return self.folder
        assert self.root is not None
        if not self.root.is_dir():
            raise SnapshotNotFound(f"snapshot root not found: {self.root}")
        snapshots = [(d, p) for d, p in dated_snapshots(self.root) if d <= as_of]
        if not snapshots:
            names = ", ".join(p.name for _, p in dated_snapshots(self.root)) or "none"
            raise SnapshotNotFound(
                f"no snapshot taken on or before {as_of} under {self.root} "
                f"(dated folders YYYY-MM-DD: {names})"
            )
        return snapshots[-1][1]
