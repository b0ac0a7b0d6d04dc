"""Fetch and open a Sigma rule archive (zip, tar, or a directory) without trusting it (issue #16).

An archive is refused whole - nothing is imported - when a member path is absolute, climbs out with
``..``, is a link or device, nests deeper than ``MAX_PATH_DEPTH`` directories, when the members
together inflate past ``MAX_TOTAL_BYTES`` (or one rule file past ``MAX_FILE_BYTES``), when there are too
many members, when a rule nests deeper than ``MAX_YAML_DEPTH`` (a YAML parser would recurse on it), or
when an expected SHA-256 does not match. Nothing is written to disk: rule texts are read into memory.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import httpx
import yaml

DEFAULT_SOURCE = "https://github.com/SigmaHQ/sigma/releases/latest/download/sigma_all_rules.zip"
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_MEMBERS = 50_000
MAX_PATH_DEPTH = 32
MAX_YAML_DEPTH = 64
RULE_SUFFIXES = (".yml", ".yaml")
_LICENSE_NAMES = frozenset({"license", "license.txt", "license.md", "licence", "licence.txt"})
_OPEN = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_CLOSE = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ArchiveRefused(ValueError):
    """The archive is unsafe or unusable; the message says why. Nothing was imported."""


@dataclass(frozen=True)
class RuleArchive:
    """The rule files of an archive (relative path -> YAML text), its licence text and its digest."""

    source: str
    sha256: str
    files: dict[str, str]
    license: str | None


def _check_name(name: str) -> PurePosixPath:
    path = PurePosixPath(name.replace("\\", "/"))
    if path.is_absolute() or re.match(r"^[A-Za-z]:", name) or "\x00" in name:
        raise ArchiveRefused(f"unsafe member path {name!r}: absolute")
    if ".." in path.parts:
        raise ArchiveRefused(f"unsafe member path {name!r}: climbs out of the archive (path traversal)")
    if len(path.parts) > MAX_PATH_DEPTH:
        raise ArchiveRefused(f"member path {name[:80]!r}… nests deeper than {MAX_PATH_DEPTH} directories")
    return path


def _yaml_too_deep(data: bytes) -> bool:
    """Collections nested deeper than ``MAX_YAML_DEPTH``, counted on YAML's event stream: the event
    parser is a state machine (no recursion), it is the composer that would recurse, and it reads
    ``${`` inside a quoted string as text, not as a bracket. libyaml's scanner stops at its own
    nesting limit before any event; other invalid YAML is left to the compiler, which reports it as a
    rule that did not compile."""
    depth = 0
    try:
        for event in yaml.parse(data, Loader=_YAML_LOADER):
            if isinstance(event, _OPEN):
                depth += 1
                if depth > MAX_YAML_DEPTH:
                    return True
            elif isinstance(event, _CLOSE):
                depth -= 1
    except yaml.YAMLError as exc:
        return "nesting depth" in str(exc)
    return False


class _Collector:
    """Accumulates members under the archive-wide limits."""

    def __init__(self) -> None:
        self.files: dict[str, str] = {}
        self.license: str | None = None
        self.members = 0
        self.total = 0

    def add(self, path: PurePosixPath, data: bytes) -> None:
        self.total += len(data)
        if len(data) > MAX_FILE_BYTES or self.total > MAX_TOTAL_BYTES:
            raise ArchiveRefused(f"{path} inflates past the size limit (a decompression bomb?)")
        if path.name.lower() in _LICENSE_NAMES and self.license is None:
            self.license = data.decode("utf-8", errors="replace")
            return
        if path.suffix.lower() not in RULE_SUFFIXES:
            return
        if _yaml_too_deep(data):
            raise ArchiveRefused(f"{path} nests deeper than {MAX_YAML_DEPTH} levels")
        self.files[str(path)] = data.decode("utf-8", errors="replace")

    def count(self) -> None:
        self.members += 1
        if self.members > MAX_MEMBERS:
            raise ArchiveRefused(f"more than {MAX_MEMBERS} members")

    def wanted(self, path: PurePosixPath) -> bool:
        return path.suffix.lower() in RULE_SUFFIXES or path.name.lower() in _LICENSE_NAMES


def _from_zip(data: bytes, found: _Collector) -> None:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
        declared = sum(info.file_size for info in infos)
        if declared > MAX_TOTAL_BYTES:
            raise ArchiveRefused(f"members declare {declared} bytes uncompressed (a zip bomb?)")
        for info in infos:
            found.count()
            path = _check_name(info.filename)
            if (info.external_attr >> 16) & 0o170000 == 0o120000:
                raise ArchiveRefused(f"{info.filename} is a symbolic link")
            if info.is_dir() or not found.wanted(path):
                continue
            with archive.open(info) as member:  # read at most one byte past the limit, whatever is declared
                found.add(path, member.read(MAX_FILE_BYTES + 1))


def _from_tar(data: bytes, found: _Collector) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
        for member in _tar_members(archive, found):
            handle = archive.extractfile(member)
            if handle is not None:
                found.add(PurePosixPath(member.name), handle.read(MAX_FILE_BYTES + 1))


def _tar_members(archive: tarfile.TarFile, found: _Collector) -> Iterator[tarfile.TarInfo]:
    declared = 0
    for member in archive:
        found.count()
        path = _check_name(member.name)
        declared += member.size
        if declared > MAX_TOTAL_BYTES:
            raise ArchiveRefused(f"members declare more than {MAX_TOTAL_BYTES} bytes (a tar bomb?)")
        if member.issym() or member.islnk() or member.isdev() or member.isfifo():
            raise ArchiveRefused(f"{member.name} is a link or device")
        if member.isfile() and found.wanted(path):
            yield member


def _from_dir(root: Path, found: _Collector) -> None:
    for path in sorted(root.rglob("*")):
        relative = PurePosixPath(path.relative_to(root).as_posix())
        found.count()
        _check_name(str(relative))
        if path.is_symlink():
            raise ArchiveRefused(f"{relative} is a symbolic link")
        if path.is_file() and found.wanted(relative):
            with path.open("rb") as handle:
                found.add(relative, handle.read(MAX_FILE_BYTES + 1))


def download(url: str, *, timeout: float) -> bytes:
    """The archive at ``url``, refused past ``MAX_DOWNLOAD_BYTES``; network errors raise ``OSError``."""
    try:
        with httpx.stream("GET", url, timeout=timeout, follow_redirects=True) as response:
            if response.status_code != 200:
                raise OSError(f"{url} answered HTTP {response.status_code}")
            body = bytearray()
            for chunk in response.iter_bytes():
                body += chunk
                if len(body) > MAX_DOWNLOAD_BYTES:
                    raise ArchiveRefused(f"download larger than {MAX_DOWNLOAD_BYTES // (1024 * 1024)} MiB")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise OSError(f"cannot fetch {url}: {exc}") from None


def open_archive(source: str, *, sha256: str | None = None, timeout: float = 30.0) -> RuleArchive:
    """Read ``source`` (http(s) URL, zip/tar file, or directory) into a ``RuleArchive``.

    Raises ``ArchiveRefused`` (unsafe or wrong digest) or ``OSError`` (unreachable, unreadable).
    """
    found = _Collector()
    if source.startswith(("http://", "https://")):
        data = download(source, timeout=timeout)
    elif Path(source).is_dir():
        _from_dir(Path(source), found)
        digest = hashlib.sha256("\n".join(f"{k}\0{v}" for k, v in sorted(found.files.items())).encode())
        return RuleArchive(source, digest.hexdigest(), found.files, found.license)
    else:
        data = Path(source).read_bytes()
    digest_hex = hashlib.sha256(data).hexdigest()
    if sha256 and sha256.strip().lower() != digest_hex:
        raise ArchiveRefused(f"SHA-256 mismatch: expected {sha256.strip().lower()}, got {digest_hex}")
    if zipfile.is_zipfile(io.BytesIO(data)):
        _from_zip(data, found)
    else:
        try:
            _from_tar(data, found)
        except tarfile.TarError:
            raise ArchiveRefused(f"{source} is not a zip or tar archive") from None
    return RuleArchive(source, digest_hex, found.files, found.license)
