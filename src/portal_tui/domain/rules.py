"""One function per rule of docs/rules.md. Pure: every input is a plain value, no I/O.

The repository and the portal service both call these, so a rule is decided in one place.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from . import texts
from .decision import Decision, allow, refuse
from .kinds import ALL_CATEGORIES, Category, ItemKind
from .states import (
    ContactAction,
    ContactStatus,
    EmailPreference,
    FormRule,
    InvoiceStatus,
    PartyAccess,
    StaffRole,
    TwoFactorRequirement,
)

_MANAGERS = frozenset({StaffRole.ADMIN, StaffRole.NORMAL})

# S8: how long a share or unshare confirmed by a toast can be undone (its outbox row is held
# as long, and the toast shows the Undo key as long).
S8_UNDO_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class FirmPortal:
    """The firm-level settings of F2-F5, with their defaults."""

    enabled: bool = True  # F2
    permissions: frozenset[Category] = ALL_CATEGORIES  # F3
    notify_new_items: bool = True  # F5
    daily_digest: bool = False  # F5
    notify_staff_on_upload: bool = True  # F5
    # Who must sign in to the portal with a second factor.
    two_factor_required: TwoFactorRequirement = TwoFactorRequirement.OFF


@dataclass(frozen=True, slots=True)
class MatterPortal:
    """One matter's portal switch and permissions (M1, M2)."""

    enabled: bool = False
    permissions: frozenset[Category] = field(default_factory=frozenset)


# R1 -------------------------------------------------------------------------------------------


def r1_may_share(role: StaffRole, kind: ItemKind) -> Decision:
    """Admin/Normal share every kind; Billing only invoices; Read-only nothing."""
    if role in _MANAGERS or (role is StaffRole.BILLING and kind is ItemKind.INVOICE):
        return allow("R1")
    return refuse("R1", texts.ROLE_CANNOT_SHARE.format(role=role.label, plural=kind.plural))


def r1_shareable_kinds(role: StaffRole) -> frozenset[ItemKind]:
    """The kinds whose share action is offered to this role at all."""
    return frozenset(k for k in ItemKind if r1_may_share(role, k))


def r1_may_keep_records(role: StaffRole) -> Decision:
    """Adding and changing clients and matters: the staff who manage the portal (R1), since
    a matter's number, name and client are what its portal shows."""
    if role in _MANAGERS:
        return allow("R1")
    return refuse("R1", texts.ROLE_CANNOT_KEEP_RECORDS)


def r1_may_manage_portal(role: StaffRole) -> Decision:
    """Matter portal switch, permissions and parties: Admin and Normal only (R1)."""
    if role in _MANAGERS:
        return allow("R1")
    return refuse("R1", texts.ROLE_CANNOT_MANAGE_PORTAL)


# F rules --------------------------------------------------------------------------------------


def f1_may_change_firm_settings(role: StaffRole) -> Decision:
    if role in _MANAGERS:
        return allow("F1")
    return refuse("F1", texts.ROLE_CANNOT_CHANGE_FIRM)


def f2_default_firm_portal() -> FirmPortal:
    """F2, F3, F5: a new firm has the portal ON, every box checked, and the usual emails."""
    return FirmPortal()


def f4_offered_on_matters(firm: FirmPortal) -> frozenset[Category]:
    """The categories a matter may offer: those the firm checks, nothing else."""
    return firm.permissions


def f4_category_permitted(firm: FirmPortal, category: Category) -> Decision:
    if category in firm.permissions:
        return allow("F4")
    return refuse("F4", texts.CATEGORY_NOT_PERMITTED_FIRM.format(category=category.label))


def f5_preference(value: str | None) -> EmailPreference:
    """A stored preference; anything unknown reads as the default, each item at once."""
    try:
        return EmailPreference(value or EmailPreference.INSTANT)
    except ValueError:
        return EmailPreference.INSTANT


def f5_emails_clients(firm: FirmPortal) -> bool:
    """Whether the firm tells its clients of new items by email at all (at once or daily)."""
    return firm.notify_new_items or firm.daily_digest


def f5_told_at_once(firm: FirmPortal, preference: EmailPreference) -> bool:
    """F5 and the client's choice: a "new items" email when the items are shared."""
    return firm.notify_new_items and preference is EmailPreference.INSTANT


def f5_gets_digest(firm: FirmPortal, preference: EmailPreference) -> bool:
    """F5 and the client's choice: the daily digest. A client who chose the digest gets it
    whenever the firm emails clients of new items at all; one who chose each item at once
    gets it too when the firm sends a digest to everyone; one who chose none never does."""
    if preference is EmailPreference.DIGEST:
        return f5_emails_clients(firm)
    return preference is EmailPreference.INSTANT and firm.daily_digest


def f6_turning_firm_off_needs_confirmation(before: bool, after: bool) -> str | None:
    """The question to ask before the firm switch goes OFF; None when no question is due."""
    return texts.FIRM_OFF_CONFIRM if before and not after else None


# M rules --------------------------------------------------------------------------------------


def m1_portal_on(firm: FirmPortal, matter: MatterPortal) -> Decision:
    """Nothing is shared and nobody invited while the firm's or the matter's portal is OFF."""
    if not firm.enabled:
        return refuse("F2", texts.FIRM_PORTAL_OFF)
    if not matter.enabled:
        return refuse("M1", texts.MATTER_PORTAL_OFF)
    return allow("M1")


def m2_check_permissions(firm: FirmPortal, requested: Iterable[Category]) -> Decision:
    """A matter may narrow the firm's set, never widen it."""
    for category in Category:
        if category in set(requested) and category not in firm.permissions:
            return refuse("M2", texts.MATTER_PERMISSION_NOT_AT_FIRM.format(category=category.label))
    return allow("M2")


def m2_initial_permissions(firm: FirmPortal) -> frozenset[Category]:
    """Turning a matter ON starts from the firm's permitted set."""
    return firm.permissions


def m2_effective_permissions(firm: FirmPortal, matter: MatterPortal) -> frozenset[Category]:
    """What a matter really permits today: its own boxes, narrowed by the firm's (F4)."""
    return matter.permissions & firm.permissions


def m3_shows_portal_icon(matter_portal_enabled: bool) -> bool:
    return matter_portal_enabled


def m4_turning_matter_off_needs_confirmation(before: bool, after: bool) -> str | None:
    return texts.MATTER_OFF_CONFIRM if before and not after else None


def m4_closing_matter_question(number: str, closing: bool, portal_enabled: bool) -> str | None:
    """Closing a matter whose portal is ON asks whether to turn the portal off too (M4)."""
    return (
        texts.MATTER_CLOSE_PORTAL_OFF.format(number=number) if closing and portal_enabled else None
    )


def m4_republish_offer(still_marked_shared: int) -> str | None:
    """Turning a matter back ON offers to publish again what is still marked shared."""
    if still_marked_shared <= 0:
        return None
    return texts.MATTER_REPUBLISH_OFFER.format(count=still_marked_shared)


def m5_may_use_messages(access: PartyAccess) -> Decision:
    if access is PartyAccess.ALLOWED:
        return allow("M5")
    return refuse("M5", texts.MESSAGES_RESTRICTED)


def m5_gets_notifications(access: PartyAccess) -> bool:
    return access is PartyAccess.ALLOWED


# S rules --------------------------------------------------------------------------------------


def s0_shareable(kind: object) -> bool:
    """The seven kinds of S0 can be shared, and nothing else."""
    return isinstance(kind, ItemKind)


def s6_category_permitted(firm: FirmPortal, matter: MatterPortal, kind: ItemKind) -> Decision:
    """A category not permitted (by the firm, or by the matter) names itself and where to fix."""
    category = kind.category
    if category not in firm.permissions:
        return refuse("S6", texts.CATEGORY_NOT_PERMITTED_FIRM.format(category=category.label))
    if category not in matter.permissions:
        return refuse("S6", texts.CATEGORY_NOT_PERMITTED_MATTER.format(category=category.label))
    return allow("S6")


def may_share(role: StaffRole, kind: ItemKind, firm: FirmPortal, matter: MatterPortal) -> Decision:
    """Every check a share must pass, in the order a user would want to hear them."""
    for decision in (
        r1_may_share(role, kind),
        m1_portal_on(firm, matter),
        s6_category_permitted(firm, matter, kind),
    ):
        if not decision:
            return decision
    return allow("S0")


def may_unshare(role: StaffRole, kind: ItemKind) -> Decision:
    """Unsharing is always possible for a role that may share the kind, even with the portal OFF:
    it only ever takes something away from the client."""
    return r1_may_share(role, kind)


def s1_needs_finalising(status: InvoiceStatus) -> bool:
    """A Draft invoice is marked Final when it is shared; Yes must be said first."""
    return status is not InvoiceStatus.FINAL


def s1_action_label(is_shared: bool) -> str:
    return texts.UNSHARE_VIA_PORTAL if is_shared else texts.SHARE_VIA_PORTAL


def s4_may_share_form(rule: FormRule, matter: MatterPortal | None, firm: FirmPortal) -> Decision:
    """A form is shareable only with an associate rule, its matter's portal ON, Forms permitted.

    The refusal names the first condition missing, so the user knows what to fix.
    """
    if rule is not FormRule.ASSOCIATE or matter is None:
        return refuse("S4", texts.FORM_NEEDS_ASSOCIATE_RULE)
    if not firm.enabled:
        return refuse("S4", texts.FIRM_PORTAL_OFF)
    if not matter.enabled:
        return refuse("S4", texts.FORM_NEEDS_PORTAL)
    if Category.FORMS not in m2_effective_permissions(firm, matter):
        return refuse("S4", texts.FORM_NEEDS_PERMISSION)
    return allow("S4")


def s5_may_message(firm: FirmPortal, matter: MatterPortal, access: PartyAccess) -> Decision:
    """Staff exchange messages with the client when the portal is ON, Messages is permitted,
    and the staff user is not a restricted party."""
    for decision in (
        m5_may_use_messages(access),
        m1_portal_on(firm, matter),
        s6_category_permitted(firm, matter, ItemKind.MESSAGE),
    ):
        if not decision:
            return Decision(
                False, "S5" if decision.rule == "S6" else decision.rule, decision.message
            )
    return allow("S5")


def s7_visible_now(
    published: bool,
    contact: ContactStatus,
    firm: FirmPortal,
    matter: MatterPortal,
    kind: ItemKind,
) -> bool:
    """Whether the client sees an item on this very request: S7 (and P3) in one answer.

    Unsharing, a disabled or removed contact, or either switch OFF hide it at once.
    """
    return p3_client_sees(published, contact, firm, matter, kind)


# C rules --------------------------------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s<>\"']+@[^@\s<>\"']+\.[^@\s<>\"']+$")


def c1_may_invite(role: StaffRole) -> Decision:
    if role in _MANAGERS:
        return allow("C1")
    return refuse("C1", texts.ROLE_CANNOT_INVITE)


def is_email(text: str) -> bool:
    """A plausible email address, as every email the firm keeps is checked (C1: the portal
    sends to it)."""
    text = text.strip()
    return len(text) <= 320 and _EMAIL.match(text) is not None


def c1_check_email(name: str, email: str) -> Decision:
    email = email.strip()
    if not email:
        return refuse("C1", texts.CONTACT_NEEDS_EMAIL.format(name=name))
    if not is_email(email):
        return refuse("C1", texts.CONTACT_BAD_EMAIL.format(email=email))
    return allow("C1")


def c1_email_to_save(primary_email: str | None, typed: str) -> str | None:
    """A typed email is saved as the client's primary email when the client had none."""
    typed = typed.strip()
    if typed and not (primary_email or "").strip():
        return typed
    return None


_TRANSITIONS: dict[ContactAction, dict[ContactStatus | None, ContactStatus]] = {
    ContactAction.INVITE: {
        None: ContactStatus.INVITED,
        ContactStatus.REMOVED: ContactStatus.INVITED,
    },
    ContactAction.DISABLE: {
        ContactStatus.INVITED: ContactStatus.DISABLED,
        ContactStatus.ACTIVE: ContactStatus.DISABLED,
    },
    ContactAction.ENABLE: {ContactStatus.DISABLED: ContactStatus.ACTIVE},
    ContactAction.REMOVE: {
        ContactStatus.INVITED: ContactStatus.REMOVED,
        ContactStatus.ACTIVE: ContactStatus.REMOVED,
        ContactStatus.DISABLED: ContactStatus.REMOVED,
    },
    # C3: an invitation goes to a contact still invited. An active contact has an account and
    # a password: the portal sends them no invitation, so the app offers none.
    ContactAction.REINVITE: {ContactStatus.INVITED: ContactStatus.INVITED},
    # A contact's name or email corrected: their access stays as it is. A removed contact is
    # given a name and email anew when invited again.
    ContactAction.EDIT: {
        ContactStatus.INVITED: ContactStatus.INVITED,
        ContactStatus.ACTIVE: ContactStatus.ACTIVE,
        ContactStatus.DISABLED: ContactStatus.DISABLED,
    },
}

_ACTION_RULE = {
    ContactAction.INVITE: "C1",
    ContactAction.DISABLE: "C2",
    ContactAction.ENABLE: "C2",
    ContactAction.REMOVE: "C3",
    ContactAction.REINVITE: "C3",
    ContactAction.EDIT: "C1",
}

_ACTION_LABEL = {
    ContactAction.INVITE: "Invite Contact",
    ContactAction.DISABLE: "Disable Access",
    ContactAction.ENABLE: "Enable Access",
    ContactAction.REMOVE: "Remove Access",
    ContactAction.REINVITE: "Re-invite Contact",
    ContactAction.EDIT: "Edit Contact",
}


def contact_action_label(action: ContactAction) -> str:
    return _ACTION_LABEL[action]


def contact_actions(status: ContactStatus | None) -> list[ContactAction]:
    """The actions offered for a contact in this state (C2, C3: a removed one offers Invite).
    Edit Contact is not a move of the contact's access: the Client Portal screen offers it
    beside Invite Contact."""
    return [a for a in ContactAction if a is not ContactAction.EDIT and status in _TRANSITIONS[a]]


def c1_two_factor_reset(name: str, *, was_activated: bool, removed: bool) -> Decision:
    """Staff who manage contacts (C1) may reset the second factor of a client who has an
    account: a lost phone and lost recovery codes. Asked to confirm first."""
    if removed or not was_activated:
        return refuse("C1", texts.TWO_FACTOR_RESET_NOT_ACTIVATED.format(name=name))
    return allow("C1")


def contact_transition(
    status: ContactStatus | None,
    action: ContactAction,
    *,
    name: str = "This contact",
    was_activated: bool = False,
) -> tuple[Decision, ContactStatus | None]:
    """C1-C3 as a state machine: the decision and the status the contact ends in.

    Enabling a contact who never set a password puts them back to invited, not active.
    """
    rule = _ACTION_RULE[action]
    target = _TRANSITIONS[action].get(status)
    if target is None:
        if action is ContactAction.INVITE and status is not None:
            return refuse(rule, texts.CONTACT_ALREADY.format(name=name, status=status.value)), None
        shown = status.value if status is not None else "not invited"
        message = texts.CONTACT_CANNOT.format(action=_ACTION_LABEL[action], status=shown)
        return refuse(rule, message), None
    if action is ContactAction.ENABLE and not was_activated:
        target = ContactStatus.INVITED
    return allow(rule), target


def c2_enable_confirmation(name: str) -> str:
    return texts.CONTACT_ENABLE_CONFIRM.format(name=name)


def c3_remove_warning(name: str) -> str:
    return texts.CONTACT_REMOVE_WARNING.format(name=name)


def c4_needs_matter_choice(portal_matter_ids: Iterable[int]) -> bool:
    """A client with several portal matters picks one; with one, it opens directly."""
    return len(set(portal_matter_ids)) > 1


# P rules --------------------------------------------------------------------------------------


def p1_can_log_in(status: ContactStatus, has_password: bool) -> bool:
    """A contact logs in once the invitation was accepted with a password, and only while active."""
    return status is ContactStatus.ACTIVE and has_password


def p1_can_activate(status: ContactStatus) -> bool:
    """The invitation link works while the contact is invited (not disabled or removed)."""
    return status is ContactStatus.INVITED


def p1_two_factor_required(requirement: TwoFactorRequirement, on_sensitive_matter: bool) -> bool:
    """Must this client sign in with a second factor? The firm requires it of every client,
    of the clients of matters it marked sensitive, or of none (they may still choose to)."""
    if requirement is TwoFactorRequirement.ALL:
        return True
    return requirement is TwoFactorRequirement.SENSITIVE and on_sensitive_matter


# P2: the portal's screens and the category each one shows (None: always there).
P2_SCREENS: tuple[tuple[str, Category | None], ...] = (
    ("Dashboard", None),
    ("Invoices", Category.INVOICES),
    ("Calendar", Category.CALENDAR_EVENTS),
    ("Tasks", Category.TASKS),
    ("Notes", Category.NOTES),
    ("Documents", Category.DOCUMENTS),
    ("Messages", Category.MESSAGES),
    ("Forms", Category.FORMS),
)


def p2_screens(firm: FirmPortal, matter: MatterPortal) -> list[str]:
    """The portal screens a client of this matter is shown: only permitted categories."""
    allowed = m2_effective_permissions(firm, matter)
    return [name for name, cat in P2_SCREENS if cat is None or cat in allowed]


def p3_client_sees(
    published: bool,
    contact: ContactStatus,
    firm: FirmPortal,
    matter: MatterPortal,
    kind: ItemKind,
) -> bool:
    """Only published items, of matters where the client is an active contact, in permitted
    categories, while both switches are ON."""
    return (
        published
        and contact is ContactStatus.ACTIVE
        and firm.enabled
        and matter.enabled
        and kind.category in m2_effective_permissions(firm, matter)
    )
