"""Reading posted forms with hard limits, so a client cannot make the service hold more than
it allows: small urlencoded forms, and one multipart upload streamed and counted as it comes.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from fastapi import Request
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

from .errors import BadRequest, TooLarge

# Plenty for a message reply or a filled-out form; far below anything that could hurt.
FORM_LIMIT = 256 * 1024
# Multipart framing and the small fields next to the file (the CSRF token).
MULTIPART_OVERHEAD = 64 * 1024
MAX_FIELD = 4 * 1024
# The longest intake form has a few dozen fields; thousands would only be an attack.
MAX_FIELDS = 500
# NUL is the one character neither database can hold (PostgreSQL text refuses it, and the
# change feed's JSON with it): what a client sent with one keeps it visible as its symbol.
NUL_SHOWN = "\u2400"


def storable(text: str) -> str:
    """`text` as posted, but for NUL (see NUL_SHOWN). Every other character stays as sent;
    a lone surrogate cannot arrive at all (percent-decoding replaces what is not UTF-8)."""
    return text.replace("\x00", NUL_SHOWN)


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    if value is None:
        return None
    try:
        length = int(value)
    except ValueError as exc:
        raise BadRequest() from exc
    if length < 0:
        raise BadRequest()
    return length


def _content_type(request: Request) -> tuple[bytes, dict[bytes, bytes]]:
    return parse_options_header(request.headers.get("content-type", ""))


async def _limited(request: Request, limit: int, too_large: TooLarge) -> AsyncIterator[bytes]:
    received = 0
    async for chunk in request.stream():
        received += len(chunk)
        if received > limit:
            raise too_large
        yield chunk


async def read_form(request: Request) -> dict[str, str]:
    """An urlencoded form (what every page form but the upload posts); first value wins."""
    ctype, _ = _content_type(request)
    if not ctype and _declared_length(request) in (None, 0):
        # A post with no body at all is an empty form (and so fails its CSRF check).
        return {}
    if ctype != b"application/x-www-form-urlencoded":
        raise BadRequest()
    too_large = TooLarge("The form is too large to send.")
    declared = _declared_length(request)
    if declared is not None and declared > FORM_LIMIT:
        raise too_large
    body = bytearray()
    async for chunk in _limited(request, FORM_LIMIT, too_large):
        body.extend(chunk)
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadRequest() from exc
    form: dict[str, str] = {}
    for key, value in pairs:
        form.setdefault(storable(key), storable(value))
    return form


@dataclass
class UploadedFile:
    filename: str
    content_type: str
    content: bytes


@dataclass
class _Part:
    # Raw bytes as sent: a browser sends a file's name in raw UTF-8 (RFC 7578 4.2), which
    # decoding here, before the header is parsed, would break.
    headers: dict[str, bytes] = field(default_factory=dict)
    name: str = ""
    filename: str | None = None
    data: bytearray = field(default_factory=bytearray)


@dataclass
class Upload:
    fields: dict[str, str]
    files: list[UploadedFile]


_EXTENDED = re.compile(rb"""(?:^|;)\s*filename\*\s*=\s*([^;]+)""", re.IGNORECASE)


def _extended_filename(disposition: bytes) -> str | None:
    """`filename*=UTF-8''...` (RFC 5987/6266): RFC 7578 tells browsers not to send it, but
    some clients do, and then it is the exact name."""
    found = _EXTENDED.search(disposition)
    if found is None:
        return None
    charset, first, rest = found[1].strip().decode("latin-1").partition("'")
    _language, second, value = rest.partition("'")
    if not first or not second:
        return None
    try:
        return unquote(value, encoding=charset or "utf-8", errors="strict")
    except (LookupError, UnicodeDecodeError):
        return None


async def read_upload(request: Request, file_limit: int) -> Upload:
    """A multipart form with files: a file over `file_limit` bytes is refused (413) as soon as
    the count passes it — before the rest is read, and before reading at all when the declared
    length already says so."""
    ctype, params = _content_type(request)
    boundary = params.get(b"boundary")
    if ctype != b"multipart/form-data" or not boundary:
        raise BadRequest()
    limit_mb = file_limit / (1024 * 1024)
    too_large = TooLarge(f"The file is too large. Files up to {limit_mb:g} MB can be uploaded.")
    body_limit = file_limit + MULTIPART_OVERHEAD
    declared = _declared_length(request)
    if declared is not None and declared > body_limit:
        raise too_large

    parts: list[_Part] = []
    current = _Part()
    header_field = bytearray()
    header_value = bytearray()
    problem: list[Exception] = []

    def on_part_begin() -> None:
        nonlocal current
        current = _Part()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_field.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        current.headers[header_field.decode("latin-1").lower()] = bytes(header_value)
        header_field.clear()
        header_value.clear()

    def on_headers_finished() -> None:
        raw = current.headers.get("content-disposition", b"")
        # Bytes are read as Latin-1 and the options given back as the same bytes: no byte
        # of a UTF-8 name is lost on the way.
        disposition, options = parse_options_header(raw)
        if disposition != b"form-data" or b"name" not in options:
            problem.append(BadRequest())
            return
        current.name = options[b"name"].decode("utf-8", "replace")
        extended = _extended_filename(raw)
        if extended is not None:
            current.filename = extended
        elif b"filename" in options:
            current.filename = options[b"filename"].decode("utf-8", "replace")

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current.data.extend(data[start:end])
        limit = file_limit if current.filename is not None else MAX_FIELD
        if len(current.data) > limit:
            problem.append(too_large if current.filename is not None else BadRequest())

    def on_part_end() -> None:
        parts.append(current)

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
            "on_headers_finished": on_headers_finished,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
        },
    )
    try:
        async for chunk in _limited(request, body_limit, too_large):
            parser.write(chunk)
            if problem:
                raise problem[0]
        parser.finalize()
    except MultipartParseError as exc:
        raise BadRequest() from exc
    if problem:
        raise problem[0]

    fields: dict[str, str] = {}
    files: list[UploadedFile] = []
    for part in parts:
        if part.filename is None:
            fields.setdefault(storable(part.name), storable(part.data.decode("utf-8", "replace")))
        else:
            files.append(
                UploadedFile(
                    filename=part.filename,
                    content_type=part.headers.get("content-type", b"").decode("latin-1"),
                    content=bytes(part.data),
                )
            )
    return Upload(fields, files)
