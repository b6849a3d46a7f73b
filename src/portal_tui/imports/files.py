"""Files to bring into a matter's documents: one file (its bytes are kept in the firm
database) or a folder (kept where it is, as a linked folder: S3's document integration, every
file fingerprinted). A file that cannot be read or is over the portal's size limit is refused
with its path; hidden files and links that lead out of the folder are left out, and said so."""

from __future__ import annotations

import hashlib
import mimetypes
import os
from pathlib import Path

from .records import DocumentRecord, Parsed, Refusal

_BLOCK = 1024 * 1024


def _content_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"


def _mb(size: int) -> str:
    return f"{size / (1024 * 1024):,.1f} MB"


def _too_big(size: int, limit: int) -> str | None:
    if size > limit:
        return f"is {_mb(size)}, over the portal's limit of {_mb(limit)} (upload_limit_mb)"
    return None


def read_file(path: Path, limit: int) -> Parsed[DocumentRecord]:
    """One file, read whole: a stored document."""
    parsed: Parsed[DocumentRecord] = Parsed()
    where = str(path.absolute())
    try:
        size = path.stat().st_size
        problem = _too_big(size, limit)
        if problem is None:
            content = path.read_bytes()
            problem = "is empty" if not content else _too_big(len(content), limit)
    except OSError as exc:
        parsed.refusals.append(_refusal(1, where, f"cannot be read: {exc.strerror or exc}"))
        return parsed
    if problem is not None:
        parsed.refusals.append(_refusal(1, where, problem))
        return parsed
    parsed.records.append(
        DocumentRecord(
            1,
            path=where,
            name=path.name,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            content_type=_content_type(path.name),
            content=content,
        )
    )
    return parsed


def read_folder(root: Path, limit: int) -> Parsed[DocumentRecord]:
    """Every file under `root` (its sub-folders too), fingerprinted, in name order."""
    parsed: Parsed[DocumentRecord] = Parsed()
    base = root.resolve()
    line = 0

    def unreadable(exc: OSError) -> None:
        # A sub-folder that cannot be listed is refused like a file that cannot be read.
        where = str(exc.filename or base)
        parsed.refusals.append(_refusal(line, where, f"cannot be read: {exc.strerror or exc}"))

    for folder, dirs, files in os.walk(base, onerror=unreadable, followlinks=False):
        here = Path(folder)
        dirs.sort()
        for d in list(dirs):
            if d.startswith("."):
                dirs.remove(d)
                parsed.skipped.append(f"{_rel(here / d, base)}/: a hidden folder")
            elif (here / d).is_symlink():
                dirs.remove(d)
                parsed.skipped.append(f"{_rel(here / d, base)}/: a link to a folder")
        for f in sorted(files):
            line += 1
            path = here / f
            rel = _rel(path, base)
            if f.startswith("."):
                parsed.skipped.append(f"{rel}: a hidden file")
                continue
            if path.is_symlink():
                target = path.resolve()
                if base not in target.parents:
                    parsed.skipped.append(f"{rel}: a link leading outside the folder")
                    continue
            record = _fingerprint(parsed, line, path, rel, limit)
            if record is not None:
                parsed.records.append(record)
    return parsed


def _fingerprint(
    parsed: Parsed[DocumentRecord], line: int, path: Path, rel: str, limit: int
) -> DocumentRecord | None:
    where = str(path)
    digest = hashlib.sha256()
    try:
        size = path.stat().st_size
        problem = _too_big(size, limit)
        if problem is not None:
            parsed.refusals.append(_refusal(line, where, problem))
            return None
        read = 0
        with path.open("rb") as f:
            while block := f.read(_BLOCK):
                digest.update(block)
                read += len(block)
    except OSError as exc:
        parsed.refusals.append(_refusal(line, where, f"cannot be read: {exc.strerror or exc}"))
        return None
    return DocumentRecord(
        line,
        path=where,
        name=path.name,
        size=read,
        sha256=digest.hexdigest(),
        content_type=_content_type(path.name),
        linked_name=rel,
    )


def _rel(path: Path, base: Path) -> str:
    return path.relative_to(base).as_posix()


def _refusal(line: int, where: str, reason: str) -> Refusal:
    return Refusal(line, reason, where)
