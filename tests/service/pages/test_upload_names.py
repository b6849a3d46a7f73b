"""A client's file keeps the name the client gave it, whatever the script: Cyrillic, CJK, an
en dash, a euro sign, accents, names that differ only in Unicode normalisation, 300
characters, path separators and control characters — stored exactly (only NUL, which no
database can hold, is kept visible as U+2400), announced to the firm exactly, and offered back
on download with an ASCII fallback and the exact name in RFC 6266's filename*."""

from __future__ import annotations

from urllib.parse import quote

import pytest
from sqlalchemy import select

from portal_tui.service.models import Change, ClientUpload

from .conftest import MATTER_A, Browser, Portal, Scene

A = f"/m/{MATTER_A}"

NAMES = [
    "Заявление.pdf",
    "報告.pdf",
    "report – final.pdf",
    "a€.pdf",
    "résumé.pdf",  # precomposed é (NFC)
    "re\u0301sume\u0301.pdf",  # e + combining acute (NFD): another name, kept as it came
    "x" * 296 + ".pdf",  # 300 characters
    "../../etc/passwd",
    "/absolute/path.pdf",
    "tab\tand\x1b[2Jescape.pdf",
    "\u202egnp.exe",  # a right-to-left override
]


def _raw_upload(ann: Browser, disposition: str) -> int:
    """A multipart upload written byte for byte, as a browser sends it: the name raw UTF-8
    (httpx would percent-encode control characters that browsers send as they are)."""
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{ann.csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; {disposition}\r\n'
        "Content-Type: application/pdf\r\n\r\n%PDF-1.4 content\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    response = ann._send(
        "POST",
        f"{A}/documents",
        content=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    return response.status_code


def _upload(ann: Browser, portal: Portal, name: str) -> ClientUpload:
    assert _raw_upload(ann, f'filename="{name}"') == 303
    with portal.db.read() as s:
        row = s.scalar(select(ClientUpload).order_by(ClientUpload.id.desc()))
        assert row is not None
        return row


@pytest.mark.parametrize("name", NAMES)
def test_an_upload_keeps_the_name_the_client_gave_it(
    portal: Portal, scene: Scene, ann: Browser, name: str
) -> None:
    row = _upload(ann, portal, name)
    assert row.name == name
    with portal.db.read() as s:
        change = s.scalar(select(Change).where(Change.type == "upload").order_by(Change.seq.desc()))
        assert change is not None and change.payload["name"] == name
    # The next request on the same connection is served as usual.
    assert ann.get(f"{A}/documents").status_code == 200


def test_names_differing_only_in_normalisation_stay_two_names(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    first = _upload(ann, portal, "résumé.pdf")
    second = _upload(ann, portal, "re\u0301sume\u0301.pdf")
    assert first.name != second.name
    assert (len(first.name), len(second.name)) == (10, 12)


def test_nul_is_kept_visible_and_a_longer_name_keeps_its_extension(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    assert _upload(ann, portal, "a\x00b.pdf").name == "a\u2400b.pdf"
    long = _upload(ann, portal, "y" * 400 + ".pdf").name
    assert len(long) == 300 and long.endswith("y.pdf")


def test_the_extended_filename_parameter_is_the_exact_name(
    portal: Portal, scene: Scene, ann: Browser
) -> None:
    """RFC 7578 says browsers send raw UTF-8, but a client that sends RFC 5987's filename*
    means it as the exact name."""
    exact = "Договор № 5.pdf"
    status = _raw_upload(ann, f"filename=\"fallback.pdf\"; filename*=UTF-8''{quote(exact)}")
    assert status == 303
    with portal.db.read() as s:
        assert s.scalar(select(ClientUpload.name)) == exact
