"""The pure rule functions of domain/ (every id of docs/rules.md has its function here)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from portal_tui.domain import (
    ALL_CATEGORIES,
    Category,
    ContactAction,
    ContactStatus,
    EmailPreference,
    FirmPortal,
    FormRule,
    InvoiceStatus,
    ItemKind,
    MatterPortal,
    PartyAccess,
    StaffRole,
    rules,
    texts,
)

ON = MatterPortal(True, ALL_CATEGORIES)
FIRM = FirmPortal()
categories = st.frozensets(st.sampled_from(list(Category)))


def test_r1_roles_and_kinds() -> None:
    assert rules.r1_shareable_kinds(StaffRole.ADMIN) == frozenset(ItemKind)
    assert rules.r1_shareable_kinds(StaffRole.NORMAL) == frozenset(ItemKind)
    assert rules.r1_shareable_kinds(StaffRole.BILLING) == {ItemKind.INVOICE}
    assert rules.r1_shareable_kinds(StaffRole.READ_ONLY) == frozenset()
    refused = rules.r1_may_share(StaffRole.BILLING, ItemKind.NOTE)
    assert not refused
    assert refused.message == "Your role (Billing) may not share or unshare notes."


def test_f2_f3_f5_defaults() -> None:
    firm = rules.f2_default_firm_portal()
    assert firm.enabled
    assert firm.permissions == ALL_CATEGORIES
    assert firm.notify_new_items
    assert not firm.daily_digest
    assert firm.notify_staff_on_upload


def test_f6_and_m4_questions_only_when_turning_off() -> None:
    assert rules.f6_turning_firm_off_needs_confirmation(True, False) == texts.FIRM_OFF_CONFIRM
    assert rules.f6_turning_firm_off_needs_confirmation(False, True) is None
    assert rules.m4_turning_matter_off_needs_confirmation(True, False) == texts.MATTER_OFF_CONFIRM
    assert rules.m4_turning_matter_off_needs_confirmation(True, True) is None
    assert rules.m4_republish_offer(0) is None


@given(firm=categories, matter=categories)
def test_m2_effective_permissions_never_exceed_the_firms(
    firm: frozenset[Category], matter: frozenset[Category]
) -> None:
    effective = rules.m2_effective_permissions(
        FirmPortal(permissions=firm), MatterPortal(True, matter)
    )
    assert effective <= firm
    assert effective <= matter
    assert bool(rules.m2_check_permissions(FirmPortal(permissions=firm), matter)) == (
        matter <= firm
    )


@given(
    published=st.booleans(),
    contact=st.sampled_from(list(ContactStatus)),
    firm_on=st.booleans(),
    matter_on=st.booleans(),
    firm_perms=categories,
    matter_perms=categories,
    kind=st.sampled_from(list(ItemKind)),
)
def test_p3_s7_client_sees_only_published_permitted_items_of_active_contacts(
    published: bool,
    contact: ContactStatus,
    firm_on: bool,
    matter_on: bool,
    firm_perms: frozenset[Category],
    matter_perms: frozenset[Category],
    kind: ItemKind,
) -> None:
    firm = FirmPortal(enabled=firm_on, permissions=firm_perms)
    matter = MatterPortal(matter_on, matter_perms)
    sees = rules.p3_client_sees(published, contact, firm, matter, kind)
    expected = (
        published
        and contact is ContactStatus.ACTIVE
        and firm_on
        and matter_on
        and kind.category in firm_perms
        and kind.category in matter_perms
    )
    assert sees == expected
    # S7: the same answer is what the very next request gets — no grace period.
    assert rules.s7_visible_now(published, contact, firm, matter, kind) == sees


def test_p1_activation_and_login() -> None:
    assert rules.p1_can_activate(ContactStatus.INVITED)
    assert not rules.p1_can_activate(ContactStatus.DISABLED)
    assert rules.p1_can_log_in(ContactStatus.ACTIVE, has_password=True)
    assert not rules.p1_can_log_in(ContactStatus.ACTIVE, has_password=False)
    assert not rules.p1_can_log_in(ContactStatus.REMOVED, has_password=True)


def test_p2_portal_screens_follow_the_matters_permissions() -> None:
    all_screens = rules.p2_screens(FIRM, ON)
    assert all_screens == [
        "Dashboard",
        "Invoices",
        "Calendar",
        "Tasks",
        "Notes",
        "Documents",
        "Messages",
        "Forms",
    ]
    narrowed = rules.p2_screens(FIRM, MatterPortal(True, frozenset({Category.INVOICES})))
    assert narrowed == ["Dashboard", "Invoices"]


def test_c_contact_state_machine() -> None:
    assert rules.contact_actions(None) == [ContactAction.INVITE]
    assert rules.contact_actions(ContactStatus.REMOVED) == [ContactAction.INVITE]
    assert set(rules.contact_actions(ContactStatus.INVITED)) == {
        ContactAction.DISABLE,
        ContactAction.REMOVE,
        ContactAction.REINVITE,
    }
    # C3: an active contact has an account; an invitation would never be sent.
    assert set(rules.contact_actions(ContactStatus.ACTIVE)) == {
        ContactAction.DISABLE,
        ContactAction.REMOVE,
    }
    assert set(rules.contact_actions(ContactStatus.DISABLED)) == {
        ContactAction.ENABLE,
        ContactAction.REMOVE,
    }
    decision, target = rules.contact_transition(
        ContactStatus.DISABLED, ContactAction.ENABLE, was_activated=True
    )
    assert decision
    assert target is ContactStatus.ACTIVE
    decision, target = rules.contact_transition(
        ContactStatus.ACTIVE, ContactAction.INVITE, name="Ada"
    )
    assert not decision
    assert target is None
    assert "Ada already has" in decision.message


def test_c1_email_checks() -> None:
    assert rules.c1_check_email("Ada", "ada@example.test")
    assert not rules.c1_check_email("Ada", "")
    assert not rules.c1_check_email("Ada", "ada@@x")
    assert rules.c1_email_to_save(None, " new@example.test ") == "new@example.test"
    assert rules.c1_email_to_save("old@example.test", "new@example.test") is None


def test_s1_texts_are_the_seed_articles_words() -> None:
    assert rules.s1_needs_finalising(InvoiceStatus.DRAFT)
    assert not rules.s1_needs_finalising(InvoiceStatus.FINAL)
    assert texts.UNFINAL_INVOICE_CONFIRM == (
        "This is an Unfinal invoice. Invoice will be marked as Final once shared. Continue?"
    )
    assert texts.INVOICE_SHARED == "Invoice has been shared successfully."
    assert texts.SHARE_FILE_CONFIRM == (
        "Are you sure you want to share the selected file via client portal?"
    )
    assert texts.CONTACT_DISABLED == "Client portal access has been disabled."


def test_s0_only_the_seven_kinds() -> None:
    assert all(rules.s0_shareable(k) for k in ItemKind)
    assert not rules.s0_shareable("contact")
    assert len(ItemKind) == 7


def test_s4_names_the_missing_condition() -> None:
    assert "processing rule" in rules.s4_may_share_form(FormRule.CREATE, ON, FIRM).message
    off = MatterPortal(False, ALL_CATEGORIES)
    assert "portal is ON" in rules.s4_may_share_form(FormRule.ASSOCIATE, off, FIRM).message
    no_forms = MatterPortal(True, ALL_CATEGORIES - {Category.FORMS})
    assert "Forms box" in rules.s4_may_share_form(FormRule.ASSOCIATE, no_forms, FIRM).message
    assert rules.s4_may_share_form(FormRule.ASSOCIATE, ON, FIRM)


def test_s5_and_m5_messages() -> None:
    assert rules.s5_may_message(FIRM, ON, PartyAccess.ALLOWED)
    refused = rules.s5_may_message(FIRM, ON, PartyAccess.RESTRICTED)
    assert not refused
    assert refused.rule == "M5"
    assert not rules.m5_gets_notifications(PartyAccess.RESTRICTED)


def test_s6_message_names_category_and_place() -> None:
    matter = MatterPortal(True, ALL_CATEGORIES - {Category.CALENDAR_EVENTS})
    refused = rules.s6_category_permitted(FIRM, matter, ItemKind.EVENT)
    assert refused.rule == "S6"
    assert refused.message.startswith("Calendar Events are not permitted")
    assert "Matter Details > Client Portal" in refused.message


def test_m1_m3_switches() -> None:
    assert rules.m1_portal_on(FIRM, MatterPortal(False)).rule == "M1"
    assert rules.m1_portal_on(FirmPortal(enabled=False), ON).rule == "F2"
    assert rules.m3_shows_portal_icon(True)
    assert not rules.m3_shows_portal_icon(False)


def test_f1_and_f4() -> None:
    assert rules.f1_may_change_firm_settings(StaffRole.NORMAL)
    assert not rules.f1_may_change_firm_settings(StaffRole.BILLING)
    firm = FirmPortal(permissions=frozenset({Category.INVOICES}))
    assert rules.f4_offered_on_matters(firm) == {Category.INVOICES}
    assert not rules.f4_category_permitted(firm, Category.NOTES)


def test_c4_choice_only_with_several_matters() -> None:
    assert not rules.c4_needs_matter_choice([3])
    assert not rules.c4_needs_matter_choice([3, 3])
    assert rules.c4_needs_matter_choice([3, 4])


def test_f5_a_clients_email_preference_within_the_firms_settings() -> None:
    at_once, daily, nothing = EmailPreference
    default = rules.FirmPortal()  # new items at once, no digest for everyone
    assert rules.f5_told_at_once(default, at_once) and not rules.f5_gets_digest(default, at_once)
    assert not rules.f5_told_at_once(default, daily) and rules.f5_gets_digest(default, daily)
    assert not rules.f5_told_at_once(default, nothing)
    assert not rules.f5_gets_digest(default, nothing)
    both = rules.FirmPortal(daily_digest=True)
    assert rules.f5_told_at_once(both, at_once) and rules.f5_gets_digest(both, at_once)
    assert not rules.f5_gets_digest(both, nothing)
    silent = rules.FirmPortal(notify_new_items=False, daily_digest=False)
    assert not any(
        rules.f5_gets_digest(silent, p) or rules.f5_told_at_once(silent, p) for p in EmailPreference
    )
    assert rules.f5_preference("weekly") is at_once and rules.f5_preference(None) is at_once
