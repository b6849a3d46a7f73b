"""What the demo firm holds: people, matters and the wording of their items, as plain data.

`demo.py` walks these lists and writes them through the repository; the seed only varies the
details (dates, amounts, which titles) and never the structure, so every seed gives a demo
with the same showcase: portal ON and OFF matters, invited and active contacts, Draft and
Final invoices, stored and linked documents, both kinds of intake form, some shared items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import Enum

from portal_tui.domain.kinds import ALL_CATEGORIES, Category
from portal_tui.domain.states import ContactStatus, FieldType, MatterStatus, StaffRole

FIRM_NAME = "Hartley, Mensah & Ng LLP"
FIRM_DOMAIN = "hartleymensah.example"

# The demo's "today": fixed, so a seed gives the same firm whatever day it runs. Events and
# tasks reach months past it, so the portal's dashboard has upcoming items for a long while.
DEMO_TODAY = date(2026, 12, 1)

CLIENT_PORTAL_FOLDER = "Client Portal Documents"
LINKED_FOLDER = "Case Files (linked)"
LINKED_DIR = "linked-docs"


@dataclass(frozen=True, slots=True)
class StaffSpec:
    login: str
    name: str
    role: StaffRole

    @property
    def email(self) -> str:
        return f"{self.login}@{FIRM_DOMAIN}"


# One per role (R1), plus a second Normal user who is a Restricted party on one matter (M5).
STAFF: tuple[StaffSpec, ...] = (
    StaffSpec("admin", "Avery Hartley", StaffRole.ADMIN),
    StaffSpec("jnormal", "Jordan Mensah", StaffRole.NORMAL),
    StaffSpec("mparker", "Morgan Parker", StaffRole.NORMAL),
    StaffSpec("bbilling", "Blake Ng", StaffRole.BILLING),
    StaffSpec("rreader", "Riley Reed", StaffRole.READ_ONLY),
)
OS_USER_NAME = "Demo Administrator"


@dataclass(frozen=True, slots=True)
class ClientSpec:
    key: str
    name: str
    email: str | None
    phone: str | None
    address: str | None
    born: date | None = None


CLIENTS: tuple[ClientSpec, ...] = (
    ClientSpec(
        "gonzalez",
        "Maria Gonzalez",
        "maria.gonzalez@example.com",
        "(555) 014-2231",
        "14 Elm St, Springfield, IL 62701",
        date(1979, 4, 12),
    ),
    ClientSpec(
        "chen",
        "David Chen",
        "d.chen@example.net",
        "(555) 018-7742",
        "880 Lake Shore Dr, Apt 12B, Springfield, IL 62704",
        date(1985, 9, 3),
    ),
    # Square brackets are Textual markup: this name must show exactly as written.
    ClientSpec(
        "smith",
        "Harold Smith [Deceased]",
        None,
        None,
        "52 Cedar Ave, Springfield, IL 62702",
        date(1938, 1, 30),
    ),
    ClientSpec(
        "okafor",
        "Aisha Okafor",
        "aisha.okafor@example.com",
        "(555) 013-9087",
        "7 Riverside Ct, Chatham, IL 62629",
        date(1990, 11, 21),
    ),
    ClientSpec(
        "whitaker",
        "Thomas & Ellen Whitaker",
        "ellen.whitaker@example.com",
        "(555) 011-4410",
        "310 Hill Rd, Rochester, IL 62563",
    ),
    ClientSpec(
        "natarajan",
        "Priya Natarajan",
        "priya.n@example.org",
        "(555) 016-5521",
        "1215 Franklin Ave, Springfield, IL 62703",
        date(1987, 2, 14),
    ),
    ClientSpec(
        "oconnor",
        "James O'Connor",
        "jim.oconnor@example.com",
        "(555) 019-0064",
        "41 Mill Ln, Sherman, IL 62684",
        date(1972, 6, 8),
    ),
    ClientSpec(
        "rossi",
        "Sofia Rossi",
        "sofia.rossi@example.com",
        "(555) 012-3378",
        "66 Washington St, Unit 4, Springfield, IL 62701",
        date(1994, 3, 27),
    ),
    ClientSpec(
        "mensah",
        "Kwame Asante",
        None,
        "(555) 017-2290",
        "903 Sunset Blvd, Springfield, IL 62704",
        date(1968, 12, 1),
    ),
    ClientSpec(
        "park",
        "Linda Park",
        "linda.park@example.com",
        "(555) 015-6613",
        "3 Birch Ln, Petersburg, IL 62675",
        date(1961, 7, 19),
    ),
    ClientSpec(
        "kowalski",
        "Robert Kowalski",
        "rkowalski@example.com",
        "(555) 010-8857",
        "18 Church St, Auburn, IL 62615",
        date(1975, 10, 5),
    ),
    ClientSpec(
        "tanaka",
        "Yuki Tanaka",
        "yuki.tanaka@example.com",
        "(555) 014-0932",
        "2400 Highland Dr, Springfield, IL 62711",
        date(1992, 5, 30),
    ),
    ClientSpec("foster", "Emily Foster", None, "(555) 011-7305", None, date(1999, 8, 16)),
    ClientSpec(
        "bell",
        "Marcus Bell",
        "marcus.bell@example.com",
        "(555) 018-1146",
        "77 Park Ave, Springfield, IL 62702",
        date(1983, 1, 9),
    ),
    ClientSpec(
        "haddad",
        "Nadia Haddad",
        "nadia.haddad@example.com",
        "(555) 013-4478",
        "5 Oak St, Riverton, IL 62561",
        date(1988, 4, 2),
    ),
    ClientSpec(
        "bluebird",
        "Bluebird Bakery LLC",
        "owner@bluebirdbakery.example",
        "(555) 016-2020",
        "120 Main St, Springfield, IL 62701",
    ),
    ClientSpec(
        "granite",
        "Granite Ridge Construction Inc.",
        "office@graniteridge.example",
        "(555) 019-4400",
        "4500 Industrial Pkwy, Springfield, IL 62707",
    ),
    ClientSpec(
        "northwind",
        "Northwind Logistics Corp.",
        "legal@northwind.example",
        "(555) 012-8800",
        "1 Northwind Plaza, Decatur, IL 62523",
    ),
    ClientSpec(
        "maple",
        "Maple Street Dental Group",
        None,
        "(555) 015-3131",
        "210 Maple St, Springfield, IL 62704",
    ),
    ClientSpec(
        "harbor",
        "Harbor View Properties LP",
        "leasing@harborview.example",
        "(555) 017-6000",
        "221 Harbor View Dr, Springfield, IL 62712",
    ),
)


class Permissions(Enum):
    """The permission sets the demo shows: most matters permit all, two narrow one box."""

    ALL = "all"
    NO_DOCUMENTS = "no_documents"
    NO_FORMS = "no_forms"

    def categories(self, firm: frozenset[Category] = ALL_CATEGORIES) -> frozenset[Category]:
        if self is Permissions.NO_DOCUMENTS:
            return firm - {Category.DOCUMENTS}
        if self is Permissions.NO_FORMS:
            return firm - {Category.FORMS}
        return firm


@dataclass(frozen=True, slots=True)
class PortalSpec:
    permissions: Permissions = Permissions.ALL
    # The client's standing: None (nobody invited yet), INVITED or ACTIVE.
    contact: ContactStatus | None = ContactStatus.ACTIVE
    restricted: tuple[str, ...] = ()  # staff logins that are Restricted parties (M5)


@dataclass(frozen=True, slots=True)
class MatterSpec:
    number: str
    name: str
    client: str  # ClientSpec.key
    area: str
    description: str
    status: MatterStatus = MatterStatus.OPEN
    portal: PortalSpec | None = None
    linked: bool = False  # has a folder linked from disk (a document integration)
    # Which items start out shared, so every list shows the shared icon somewhere.
    showcase: frozenset[str] = field(default_factory=frozenset)

    @property
    def year(self) -> int:
        return int(self.number[:4])


_ON = PortalSpec()
_INVITED = PortalSpec(contact=ContactStatus.INVITED)

MATTERS: tuple[MatterSpec, ...] = (
    MatterSpec(
        "2022-0003",
        "Whitaker Family Trust",
        "whitaker",
        "Estate Planning",
        "Revocable living trust with pour-over wills for both spouses.",
        MatterStatus.CLOSED,
    ),
    MatterSpec(
        "2022-0017",
        "Okafor v. Castle Insurance Co.",
        "okafor",
        "Personal Injury",
        "Rear-end collision on I-55; claim for medical costs and lost wages.",
        portal=PortalSpec(restricted=("mparker",)),
        showcase=frozenset({"invoices", "event", "task", "note", "document"}),
    ),
    MatterSpec(
        "2022-0031",
        "Chen – Will and powers of attorney",
        "chen",
        "Estate Planning",
        "Simple will, durable power of attorney and health-care directive.",
        MatterStatus.CLOSED,
    ),
    MatterSpec(
        "2023-0004",
        "Purchase of 14 Elm St",
        "gonzalez",
        "Real Estate",
        "Residential purchase; title review and closing.",
        MatterStatus.CLOSED,
        portal=_ON,
    ),
    MatterSpec(
        "2023-0009",
        "Estate of Harold Smith",
        "smith",
        "Probate",
        "Independent administration; inventory, creditor notice, final accounting.",
        linked=True,
    ),
    MatterSpec(
        "2023-0022",
        "Bluebird Bakery – commercial lease",
        "bluebird",
        "Real Estate",
        "Negotiation of a five-year lease for the second location.",
        portal=PortalSpec(Permissions.NO_DOCUMENTS, ContactStatus.INVITED),
    ),
    MatterSpec(
        "2023-0028",
        "Granite Ridge Construction v. Apex Builders",
        "granite",
        "Litigation",
        "Breach of subcontract; unpaid progress payments.",
        portal=_ON,
        linked=True,
        showcase=frozenset({"linked document"}),
    ),
    MatterSpec(
        "2023-0035",
        "Divorce – Natarajan",
        "natarajan",
        "Family Law",
        "Uncontested dissolution; marital settlement agreement.",
        portal=PortalSpec(Permissions.NO_FORMS),
    ),
    MatterSpec(
        "2023-0041",
        "O'Connor – DUI defense",
        "oconnor",
        "Criminal Defense",
        "First offense; statutory summary suspension hearing.",
        MatterStatus.CLOSED,
    ),
    MatterSpec(
        "2024-0002",
        "Rossi – H-1B petition",
        "rossi",
        "Immigration",
        "Specialty-occupation petition with the sponsoring employer.",
        portal=_INVITED,
    ),
    MatterSpec(
        "2024-0007",
        "Asante v. Dalton Motors",
        "mensah",
        "Consumer",
        "Lemon-law claim for a repeatedly repaired vehicle.",
    ),
    MatterSpec(
        "2024-0012",
        "Estate planning – Linda Park",
        "park",
        "Estate Planning",
        "Will, trust and beneficiary review after retirement.",
        portal=_ON,
    ),
    MatterSpec(
        "2024-0015",
        "Kowalski – Chapter 7 bankruptcy",
        "kowalski",
        "Bankruptcy",
        "Means test, schedules and the 341 meeting.",
        MatterStatus.PENDING,
    ),
    MatterSpec(
        "2024-0019",
        "Sale of 221 Harbor View Dr",
        "harbor",
        "Real Estate",
        "Sale of a four-unit building; 1031 exchange coordination.",
        portal=_ON,
    ),
    MatterSpec(
        "2024-0024",
        "Tanaka – employment agreement review",
        "tanaka",
        "Employment",
        "Review of non-compete and equity terms.",
        MatterStatus.CLOSED,
    ),
    MatterSpec(
        "2024-0030",
        "Northwind Logistics – general counsel",
        "northwind",
        "Corporate",
        "Ongoing contracts, vendor disputes and board matters.",
        portal=_ON,
        linked=True,
    ),
    MatterSpec(
        "2024-0033",
        "Foster – name change",
        "foster",
        "Family Law",
        "Adult name change petition and publication.",
        MatterStatus.CLOSED,
    ),
    MatterSpec(
        "2024-0038",
        "Bell v. Metro Transit Authority",
        "bell",
        "Personal Injury",
        "Slip and fall at the Fifth Street station.",
        portal=_INVITED,
    ),
    MatterSpec(
        "2024-0044",
        "Haddad – LLC formation",
        "haddad",
        "Corporate",
        "Formation, operating agreement and EIN.",
        MatterStatus.CLOSED,
    ),
    MatterSpec(
        "2025-0001",
        "Maple Street Dental – partnership dissolution",
        "maple",
        "Corporate",
        "Buy-out of a departing partner; asset valuation.",
    ),
    MatterSpec(
        "2025-0006",
        "Refinance – 14 Elm St",
        "gonzalez",
        "Real Estate",
        "Refinance review; title update and closing.",
        portal=_ON,
    ),
    MatterSpec(
        "2025-0011",
        "Okafor – estate plan",
        "okafor",
        "Estate Planning",
        "Will and guardianship designation for two minor children.",
        portal=_ON,
    ),
    MatterSpec(
        "2025-0016",
        "Granite Ridge – mechanic's lien, Cedar Park",
        "granite",
        "Construction",
        "Lien filing and foreclosure for the Cedar Park project.",
    ),
    MatterSpec(
        "2025-0020",
        "Whitaker – guardianship of a minor",
        "whitaker",
        "Family Law",
        "Guardianship of a grandchild; home study and hearing.",
        portal=_ON,
    ),
    MatterSpec(
        "2025-0027",
        "Northwind Logistics – trademark filing",
        "northwind",
        "Intellectual Property",
        "Word mark and logo in classes 39 and 42.",
        MatterStatus.PENDING,
    ),
    MatterSpec(
        "2025-0032",
        "Kowalski – foreclosure defense",
        "kowalski",
        "Real Estate",
        "Loss-mitigation review and answer to the complaint.",
    ),
    MatterSpec(
        "2026-0003",
        "Rossi v. Sterling Bank",
        "rossi",
        "Litigation",
        "Unauthorised transfers; claim under the Electronic Fund Transfer Act.",
    ),
    MatterSpec(
        "2026-0008",
        "Bluebird Bakery – employee handbook",
        "bluebird",
        "Employment",
        "Handbook, wage-and-hour review and onboarding forms.",
    ),
    MatterSpec(
        "2026-0014",
        "Tanaka – EB-2 green card",
        "tanaka",
        "Immigration",
        "National-interest waiver petition.",
        portal=_INVITED,
    ),
    MatterSpec(
        "2026-0019",
        "Park – purchase of 3 Birch Ln",
        "park",
        "Real Estate",
        "Purchase of a retirement home; inspection and closing.",
    ),
)

# The matter the "associate" intake form fills in: portal ON, Forms permitted (S4).
ASSOCIATE_FORM_MATTER = "2024-0012"

# Invoice lines: (description, quantity in hours or units, rate in cents), by practice area.
_FEES: dict[str, tuple[tuple[str, Decimal, int], ...]] = {
    "Estate Planning": (
        ("Initial estate planning consultation", Decimal("1.0"), 0),
        ("Drafting of will and trust instruments", Decimal("4.5"), 32500),
        ("Execution ceremony and notarisation", Decimal("1.0"), 32500),
        ("Beneficiary designation review", Decimal("1.5"), 27500),
    ),
    "Probate": (
        ("Preparation of petition for letters of office", Decimal("3.0"), 30000),
        ("Inventory of estate assets", Decimal("5.0"), 27500),
        ("Creditor notice publication", Decimal("1"), 18500),
        ("Court filing fee", Decimal("1"), 29300),
    ),
    "Real Estate": (
        ("Review of purchase contract", Decimal("2.0"), 27500),
        ("Title commitment review", Decimal("1.5"), 27500),
        ("Attendance at closing", Decimal("2.0"), 27500),
        ("Recording fees", Decimal("1"), 10700),
    ),
    "Litigation": (
        ("Drafting of complaint", Decimal("6.5"), 35000),
        ("Written discovery", Decimal("8.0"), 35000),
        ("Deposition preparation and attendance", Decimal("5.5"), 35000),
        ("Court reporter", Decimal("1"), 48000),
    ),
    "Personal Injury": (
        ("Medical records review", Decimal("3.5"), 30000),
        ("Demand letter to insurer", Decimal("2.5"), 30000),
        ("Records request fees", Decimal("3"), 2500),
    ),
    "Family Law": (
        ("Drafting of petition", Decimal("2.5"), 30000),
        ("Negotiation of settlement agreement", Decimal("4.0"), 30000),
        ("Court appearance", Decimal("1.5"), 30000),
        ("Filing fee", Decimal("1"), 33700),
    ),
}
_DEFAULT_FEES: tuple[tuple[str, Decimal, int], ...] = (
    ("Legal research and analysis", Decimal("3.0"), 30000),
    ("Drafting and revision of documents", Decimal("4.0"), 30000),
    ("Client conference", Decimal("1.0"), 30000),
    ("Photocopies and postage", Decimal("1"), 4250),
)


def fee_lines(area: str) -> tuple[tuple[str, Decimal, int], ...]:
    return _FEES.get(area, _DEFAULT_FEES)


EVENTS: dict[str, tuple[str, ...]] = {
    "Litigation": (
        "Case management conference",
        "Deposition of opposing party",
        "Mediation session",
        "Hearing on motion to dismiss",
    ),
    "Personal Injury": (
        "Independent medical examination",
        "Settlement conference",
        "Deposition of claims adjuster",
    ),
    "Real Estate": ("Home inspection", "Closing at Prairie Title Co.", "Final walk-through"),
    "Estate Planning": ("Design meeting", "Signing ceremony", "Annual plan review"),
    "Probate": (
        "Hearing on letters of office",
        "Inventory review with executor",
        "Final accounting hearing",
    ),
    "Family Law": ("Mediation session", "Prove-up hearing", "Parenting class"),
    "Immigration": ("Biometrics appointment", "Interview preparation", "USCIS interview"),
}
DEFAULT_EVENTS = ("Client meeting", "Strategy call", "Document review meeting")
EVENT_DETAILS = ("Bring a photo ID.", "Agenda sent by email.", None, None)
_OFFICE = ("Conference Room A", "Conference Room B", "Video call", "Client's office")


def event_location(title: str, roll: float) -> str:
    """Where an event takes place, matching its kind: hearings at court, closings at title."""
    lowered = title.lower()
    if "hearing" in lowered or "case management" in lowered:
        return "Sangamon County Courthouse, Room 302"
    if "closing" in lowered:
        return "Prairie Title Co., 400 S 5th St"
    if "uscis" in lowered or "biometrics" in lowered:
        return "USCIS Field Office, Chicago"
    return _OFFICE[int(roll * len(_OFFICE))]


TASKS: dict[str, tuple[str, ...]] = {
    "Litigation": (
        "Serve interrogatories",
        "Draft motion for summary judgment",
        "Prepare exhibit list",
        "Calendar response deadline",
    ),
    "Personal Injury": (
        "Request medical records",
        "Send demand package",
        "Collect wage-loss documentation",
    ),
    "Real Estate": (
        "Order title search",
        "Review survey",
        "Prepare deed",
        "Confirm wire instructions by phone",
    ),
    "Estate Planning": (
        "Draft will",
        "Prepare funding instructions for the trust",
        "Send beneficiary designation forms",
    ),
    "Probate": (
        "Publish creditor notice",
        "Open estate bank account",
        "File inventory with the court",
    ),
    "Family Law": ("Draft financial affidavit", "Prepare parenting plan", "Exchange disclosures"),
    "Immigration": (
        "Collect employment letters",
        "Prepare translation certificates",
        "File petition",
    ),
}
DEFAULT_TASKS = (
    "Send engagement letter",
    "Collect documents from client",
    "Review draft with client",
    "Update client on status",
)
TASK_DETAILS = (
    "Check the checklist in the matter folder first.",
    "Client prefers email; copy the paralegal.",
    None,
    "Confirm the deadline with the court's online docket.",
)

NOTES: tuple[tuple[str, str], ...] = (
    (
        "Call with client",
        "Went through next steps and the documents still needed. "
        "Client will send them by the end of the week.",
    ),
    (
        "Strategy",
        "Lead with the written record; the timeline is strong. Consider an early "
        "settlement offer after discovery closes.",
    ),
    (
        "Meeting summary",
        "Reviewed the draft together. Two changes requested: the successor "
        "trustee and the distribution ages.",
    ),
    (
        "Opposing counsel",
        "Opposing counsel is open to mediation in the spring and asked for "
        "the damages calculation.",
    ),
    ("Court clerk", "Clerk confirmed the hearing date; courtroom changed to 302."),
    ("Billing", "Client asked for monthly invoices by email; agreed."),
    (
        "Research",
        "Appellate authority supports our reading of the notice requirement; memo "
        "saved in the research folder.",
    ),
)

STAFF_MESSAGES: tuple[tuple[str, str], ...] = (
    (
        "Documents we still need",
        "Hello, to keep things moving we still need your last two "
        "bank statements. You can upload them here in the portal.",
    ),
    ("Upcoming appointment", "A reminder of next week's appointment. Please bring a photo ID."),
    (
        "Draft ready for review",
        "The draft is ready. Please read it and reply here with any questions before we meet.",
    ),
)
# Client replies, for when the repository can record one the way sync will (no API yet).
CLIENT_REPLIES: tuple[str, ...] = (
    "Thank you — I'll upload the statements tonight.",
    "Got it, see you then. Is parking available at the office?",
    "I read the draft. Could we go over section 3 when we meet?",
)

# Stored documents: (folder, file name, first line of its text).
STORED_DOCUMENTS: tuple[tuple[str, str, str], ...] = (
    ("Correspondence", "Engagement letter.pdf", "Engagement letter"),
    ("Correspondence", "Fee agreement.pdf", "Fee agreement"),
    ("Pleadings", "Complaint.pdf", "Complaint"),
    ("Research", "Research memo.txt", "Research memorandum"),
    ("Client Portal Documents", "Welcome to the client portal.pdf", "Welcome"),
)
LINKED_FILES: tuple[tuple[str, str], ...] = (
    ("Scanned correspondence.pdf", "Scanned correspondence"),
    ("Chronology.txt", "Chronology of events"),
    ("Exhibit A - Contract.pdf", "Exhibit A: the contract"),
)

# Intake forms: one fills an existing matter (ASSOCIATE), one opens a new matter (CREATE).
# Field dicts: key, label, type (FieldType value), required, choices, target.
ASSOCIATE_FORM_NAME = "Estate Planning Questionnaire"
ASSOCIATE_FORM_DESCRIPTION = "Tell us about yourself and your goals before our design meeting."
ASSOCIATE_FORM_FIELDS: tuple[dict[str, object], ...] = (
    {
        "key": "phone",
        "label": "Best phone number",
        "type": FieldType.PHONE.value,
        "required": True,
        "choices": [],
        "target": "client.phone",
    },
    {
        "key": "email",
        "label": "Email address",
        "type": FieldType.EMAIL.value,
        "required": True,
        "choices": [],
        "target": "client.primary_email",
    },
    {
        "key": "address",
        "label": "Home address",
        "type": FieldType.MULTILINE.value,
        "required": True,
        "choices": [],
        "target": "client.address",
    },
    {
        "key": "born",
        "label": "Date of birth",
        "type": FieldType.DATE.value,
        "required": False,
        "choices": [],
        "target": "client.date_of_birth",
    },
    {
        "key": "marital",
        "label": "Marital status",
        "type": FieldType.CHOICE.value,
        "required": True,
        "choices": ["Single", "Married", "Divorced", "Widowed"],
        "target": None,
    },
    {
        "key": "goals",
        "label": "What would you like your plan to achieve?",
        "type": FieldType.MULTILINE.value,
        "required": False,
        "choices": [],
        "target": "matter.description",
    },
    {
        "key": "executor",
        "label": "Who would you like as executor?",
        "type": FieldType.TEXT.value,
        "required": False,
        "choices": [],
        "target": None,
    },
)
CREATE_FORM_NAME = "New Client Intake"
CREATE_FORM_DESCRIPTION = "For prospective clients: opens a new matter when submitted."
CREATE_FORM_FIELDS: tuple[dict[str, object], ...] = (
    {
        "key": "name",
        "label": "Full name",
        "type": FieldType.TEXT.value,
        "required": True,
        "choices": [],
        "target": "client.name",
    },
    {
        "key": "email",
        "label": "Email address",
        "type": FieldType.EMAIL.value,
        "required": True,
        "choices": [],
        "target": "client.primary_email",
    },
    {
        "key": "phone",
        "label": "Phone",
        "type": FieldType.PHONE.value,
        "required": False,
        "choices": [],
        "target": "client.phone",
    },
    {
        "key": "address",
        "label": "Mailing address",
        "type": FieldType.MULTILINE.value,
        "required": False,
        "choices": [],
        "target": "client.address",
    },
    {
        "key": "area",
        "label": "What do you need help with?",
        "type": FieldType.CHOICE.value,
        "required": True,
        "choices": ["Estate Planning", "Real Estate", "Family Law", "Personal Injury", "Other"],
        "target": "matter.practice_area",
    },
    {
        "key": "summary",
        "label": "Briefly describe your situation",
        "type": FieldType.MULTILINE.value,
        "required": True,
        "choices": [],
        "target": "matter.description",
    },
    {
        "key": "deadline",
        "label": "Any deadline we should know about?",
        "type": FieldType.DATE.value,
        "required": False,
        "choices": [],
        "target": None,
    },
)
