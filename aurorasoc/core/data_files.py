"""Private on-disk state: the data directory is 0700 and the SQLite files 0600.

The embedded database holds password and API-key hashes, so other local users must not read it.
SQLite creates ``-wal``/``-shm`` with the database file's own mode, so creating that file 0600
before SQLite first opens it keeps the whole set private; files left 0644 by an older version are
tightened on the next start.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
SQLITE_SUFFIXES = ("", "-wal", "-shm", "-journal")


def _tighten(path: Path, mode: int) -> None:
    if stat.S_IMODE(path.stat().st_mode) & ~mode:
        path.chmod(mode)


def ensure_private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and make ``path`` itself owner-only."""
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    _tighten(path, DIR_MODE)
    return path


def secure_sqlite_file(database: Path, data_dir: Path | None = None) -> None:
    """Owner-only SQLite file set; its folder is made private when it is (inside) the data dir."""
    database = database.expanduser()
    folder = database.parent
    ours = data_dir is not None and folder.resolve().is_relative_to(data_dir.expanduser().resolve())
    if ours or not folder.exists():
        ensure_private_dir(folder)
    if not database.exists():
        os.close(os.open(database, os.O_CREAT | os.O_WRONLY, FILE_MODE))
    for suffix in SQLITE_SUFFIXES:
        sibling = database.with_name(database.name + suffix)
        if sibling.exists():
            _tighten(sibling, FILE_MODE)
