"""An invoice's own PDF, as a firm attaches it: on import (`--pdf`: one file, or a folder of
`<INVOICE_NUMBER>.pdf`) or alone (`portal-tui invoice pdf`). What a file must be to go to the
client, and which invoice of an import each one goes with. Bytes in, pairs out, nothing
written: the command reads the files, the repository keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Every PDF starts so (ISO 32000, 7.5.2); a file that does not is no PDF, whatever its name.
PDF_MAGIC = b"%PDF-"
SUFFIX = ".pdf"


@dataclass(frozen=True, slots=True)
class PdfFile:
    """One PDF the firm gave: its file name (what a refusal names), its bytes, and the invoice
    number its name says (`<NUMBER>.pdf` in a folder); None: the import's one invoice."""

    name: str
    content: bytes
    number: str | None = None


@dataclass(frozen=True, slots=True)
class Pdfs:
    """The PDFs of one import, and the largest the portal takes (its upload limit)."""

    files: tuple[PdfFile, ...]
    limit_bytes: int


class PdfsRefused(Exception):
    """The import is refused: every PDF that cannot go with it, each with its reason."""

    def __init__(self, what: str, refusals: Sequence[tuple[str, str]]) -> None:
        self.what = what
        self.refusals = list(refusals)
        shown = "\n".join(f"  {name}: {reason}" for name, reason in self.refusals[:50])
        more = f"\n  and {len(self.refusals) - 50:,} more" if len(self.refusals) > 50 else ""
        count = "1 PDF" if len(self.refusals) == 1 else f"{len(self.refusals):,} PDFs"
        super().__init__(
            f"{what}: nothing was imported; {count} cannot be attached:\n{shown}{more}"
        )


def _mb(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


def pdf_problem(content: bytes, limit_bytes: int) -> str | None:
    """Why these bytes cannot be an invoice's PDF for the client; None when they can."""
    if not content.startswith(PDF_MAGIC):
        return "not a PDF (a PDF file starts with %PDF-)"
    if len(content) > limit_bytes:
        return (
            f"{_mb(len(content))} is over the portal's limit of {_mb(limit_bytes)} "
            "(upload_limit_mb)"
        )
    return None


def number_of(file_name: str) -> str | None:
    """The invoice number a folder's file names (`INV-7.pdf`, `inv-7.PDF`); None if not a PDF."""
    if len(file_name) <= len(SUFFIX) or not file_name.casefold().endswith(SUFFIX):
        return None
    return file_name[: -len(SUFFIX)]


def pdfs_for(numbers: Sequence[str], pdfs: Pdfs, *, what: str) -> dict[str, PdfFile]:
    """Each PDF by the invoice of the import it goes with (numbers matched whatever their
    case); PdfsRefused naming every file that is not a PDF, too big, names no invoice of the
    import, or is a second PDF of one invoice."""
    by_key: dict[str, str] = {}
    for number in numbers:
        by_key.setdefault(number.casefold(), number)
    chosen: dict[str, PdfFile] = {}
    refusals: list[tuple[str, str]] = []
    for pdf in pdfs.files:
        problem = pdf_problem(pdf.content, pdfs.limit_bytes)
        if problem is not None:
            refusals.append((pdf.name, problem))
            continue
        if pdf.number is None:
            if len(by_key) != 1:
                refusals.append(
                    (
                        pdf.name,
                        f"one PDF goes with a file of one invoice, and {what} holds "
                        f"{len(by_key):,}: give a folder of PDFs named <INVOICE_NUMBER>.pdf",
                    )
                )
                continue
            (number,) = by_key.values()
        else:
            found = by_key.get(pdf.number.casefold())
            if found is None:
                refusals.append((pdf.name, f"names no invoice of {what}"))
                continue
            number = found
        if number in chosen:
            first = chosen[number].name
            refusals.append((pdf.name, f"invoice {number} has a PDF already: {first}"))
            continue
        chosen[number] = pdf
    if refusals:
        raise PdfsRefused(what, refusals)
    return chosen
