"""Every sentence a user reads that a rule decides. The exact texts of docs/rules.md stay word
for word."""

from __future__ import annotations

# S1 — the help article's message boxes (docs/rules.md), word for word.
SHARE_VIA_PORTAL = "Share via Client Portal"
UNSHARE_VIA_PORTAL = "Unshare via Client Portal"
UNFINAL_INVOICE_CONFIRM = (
    "This is an Unfinal invoice. Invoice will be marked as Final once shared. Continue?"
)
INVOICE_SHARED = "Invoice has been shared successfully."
INVOICE_UNSHARED = "Invoice has been unshared from the client portal."

# S3
SHARE_FILE_TITLE = "Share File"
SHARE_FILE_CONFIRM = "Are you sure you want to share the selected file via client portal?"
UNSHARE_FILE_CONFIRM = "Are you sure you want to unshare the selected file from the client portal?"

# C1-C3
CONTACT_INVITED = "An invitation to the client portal has been sent to {email}."
CONTACT_DISABLED = "Client portal access has been disabled."
CONTACT_ENABLE_CONFIRM = "Are you sure you want to enable client portal access for {name}?"
CONTACT_ENABLED = "Client portal access has been enabled."
CONTACT_REMOVE_WARNING = (
    "Removing access ends {name}'s client portal access to this matter: nothing shared on it "
    "will show to them. They can be invited again later. Continue?"
)
CONTACT_REMOVED = "Client portal access has been removed."
CONTACT_SIGN_OUT = "Sign out everywhere"
CONTACT_SIGN_OUT_CONFIRM = (
    "Sign {name} out of the client portal everywhere? Every browser they are signed in on "
    "must log in again."
)
PORTAL_NOT_STARTED = "The portal service has not started yet: try again in a moment."
CONTACT_SIGNED_OUT = (
    "{name} is signed out of the client portal everywhere: {ended} session(s) ended."
)
CONTACT_SIGN_INS = "Two-factor: {two_factor} · Last sign-in: {last} · Active sessions: {sessions}"
CONTACT_REINVITED = "The invitation has been sent again to {email}."
TWO_FACTOR_RESET_LABEL = "Reset Two-Factor"
TWO_FACTOR_RESET_CONFIRM = (
    "Reset the two-factor sign-in of {name}? Their authenticator app, recovery codes and "
    "remembered devices stop working, every browser of theirs is signed out, and they are "
    "emailed that it happened. Do this only once you are sure who asked."
)
TWO_FACTOR_RESET_DONE = (
    "Two-factor sign-in will be reset on the portal, and {email} is emailed a security notice."
)
TWO_FACTOR_RESET_NOT_ACTIVATED = (
    "{name} has not activated a portal account yet: there is no two-factor sign-in to reset."
)
CONTACT_NEEDS_EMAIL = "Enter an email address for {name} before inviting them to the client portal."
CONTACT_BAD_EMAIL = "{email!r} is not a valid email address."
CONTACT_ALREADY = "{name} already has client portal access to this matter ({status})."
CONTACT_CANNOT = "{action} is not available for a contact who is {status}."
CONTACT_NEEDS_NAME = "A contact needs a name (at most 200 characters)."
CONTACT_SAVED = "{name}'s contact details have been saved."
CONTACT_EMAIL_CHANGED_INVITED = (
    "The invitation went to the old address: Re-invite Contact sends it to the new one."
)

# Clients and matters, kept by staff (R1: Admin and Normal).
CLIENT_NEEDS_NAME = "A client needs a name (at most 200 characters)."
CLIENT_BAD_EMAIL = "{email!r} is not a valid email address (leave it blank if there is none)."
CLIENT_PHONE_TOO_LONG = "A phone number is at most 60 characters."
CLIENT_ADDRESS_TOO_LONG = "An address is at most 1000 characters."
MATTER_NEEDS_NUMBER = "A matter needs a number (at most 40 characters)."
MATTER_NEEDS_NAME = "A matter needs a name (at most 300 characters)."
MATTER_PRACTICE_AREA_TOO_LONG = "A practice area is at most 120 characters."
MATTER_NEEDS_CLIENT = "Choose the matter's client."
MATTER_NUMBER_TAKEN = (
    "The number {number} is already used by matter {number} {name} (client {client}): "
    "choose another number."
)
MATTER_RESPONSIBLE_INACTIVE = (
    "{name} is not an active staff user, so cannot be responsible for a matter: choose an "
    "active one."
)
MATTER_CLOSE_PORTAL_OFF = (
    "Matter {number} is being closed while its client portal is ON. Turn its portal off too? "
    "Yes hides everything shared on it from its client (the share marks are kept); No closes "
    "it and leaves the portal ON."
)

# F6, M4
FIRM_OFF_CONFIRM = (
    "Turning the client portal OFF for the firm hides everything shared from every client at "
    "once. Nothing is deleted. Continue?"
)
MATTER_OFF_CONFIRM = (
    "Turning the client portal OFF for this matter hides everything shared on it from its "
    "client at once. Nothing is deleted. Continue?"
)
MATTER_REPUBLISH_OFFER = (
    "{count} item(s) on this matter are still marked shared. Publish them to the client portal "
    "again?"
)

# Refusals.
ROLE_CANNOT_SHARE = "Your role ({role}) may not share or unshare {plural}."
ROLE_CANNOT_MANAGE_PORTAL = (
    "Only Admin and Normal staff users may change the client portal settings."
)
ROLE_CANNOT_CHANGE_FIRM = (
    "Only Admin and Normal staff users may change the firm's client portal settings."
)
ROLE_CANNOT_INVITE = "Only Admin and Normal staff users may manage client portal contacts."
ROLE_CANNOT_KEEP_RECORDS = (
    "Only Admin and Normal staff users may add or change clients and matters."
)
FIRM_PORTAL_OFF = (
    "The client portal is OFF for the firm. Turn it ON in Setup > Firm Settings > Client Portal "
    "first."
)
MATTER_PORTAL_OFF = (
    "The client portal is OFF for this matter. Turn it ON in Matter Details > Client Portal "
    "before sharing items or inviting contacts."
)
CATEGORY_NOT_PERMITTED_MATTER = (
    "{category} are not permitted in the client portal for this matter. Check {category} under "
    "Matter Details > Client Portal > Permissions to share them."
)
CATEGORY_NOT_PERMITTED_FIRM = (
    "{category} are not permitted in the client portal for the firm. Check {category} under "
    "Setup > Firm Settings > Client Portal first."
)
MATTER_PERMISSION_NOT_AT_FIRM = (
    "{category} cannot be permitted on a matter while the firm does not permit them. Check "
    "{category} under Setup > Firm Settings > Client Portal first."
)
FORM_NEEDS_ASSOCIATE_RULE = (
    "This form can be shared only when its processing rule associates it with an existing "
    "matter. Change the processing rule in Setup > Intake Forms."
)
FORM_NEEDS_PORTAL = (
    "This form can be shared only when its matter's client portal is ON. Turn it ON in "
    "Matter Details > Client Portal."
)
FORM_NEEDS_PERMISSION = (
    "This form can be shared only when the Forms box is checked in the matter's client portal "
    "permissions (Matter Details > Client Portal)."
)
MESSAGES_RESTRICTED = (
    "You are a restricted party on this matter: you can neither read nor send its client "
    "portal messages."
)
NOT_SHARED_YET = "This {label} is not shared via the client portal."
ALREADY_SHARED = "This {label} is already shared via the client portal."
NO_FIRM = (
    "This firm database has no firm yet. Set one up with `portal-tui init`, or write the demo "
    "firm into it with `portal-tui seed --demo`."
)
ITEM_SHARED = "The {label} has been shared via the client portal."
ITEM_UNSHARED = "The {label} has been unshared from the client portal."

# Setup > Firm Settings > Client Portal, Setup > Intake Forms
FIRM_SETTINGS_SAVED = "Client portal settings saved: {changes}."
FORM_SAVED = 'The intake form "{name}" has been saved.'
FORM_SHARED_CANNOT_MOVE = (
    "This form is shared via the client portal. Unshare it before changing its processing rule "
    "or its matter."
)

# Matter Details > Client Portal, and Preview as client (M1-M5, C1, P3)
MATTER_PORTAL_NOW = "The client portal is now {state} for this matter."
MATTER_REPUBLISHED = "{count} item(s) published to the client portal again."
MATTER_NOT_REPUBLISHED = "{count} item(s) are no longer marked shared."
PERMISSIONS_SAVED = "Client portal permissions saved for this matter."
PERMISSIONS_NOT_AT_FIRM = (
    "Not offered: {categories}. The firm does not permit them; check them under Setup > Firm "
    "Settings > Client Portal first."
)
PARTY_ACCESS_SET = "{name} is now {access} on this matter's client portal."
INVITE_EXPLAINS = "The invitation email explains how to create the client portal account."
INVITE_EMAIL_BECOMES_PRIMARY = (
    "{name} has no email on file: the address typed here is saved as their primary email."
)
PREVIEW_FIRM_OFF = "The client portal is OFF for the firm: no client sees anything of any matter."
PREVIEW_MATTER_OFF = "The client portal is OFF for this matter: no contact sees anything of it."
PREVIEW_NO_ACTIVE_CONTACT = (
    "No contact of this matter has active client portal access: nobody sees it in the portal."
)

# Share history of an item, and bulk share of the rows marked with Space.
SHARE_HISTORY = "Share history"
HISTORY_NEVER_SHARED = "This {label} has never been shared via the client portal."
BULK_SHARE_ACTION = "Share {count} marked via Client Portal"
BULK_UNSHARE_ACTION = "Unshare {count} marked"
BULK_SHARE_CONFIRM = "Share {count} marked {items} via the client portal?"
BULK_UNSHARE_CONFIRM = "Unshare {count} marked {items} from the client portal?"
BULK_UNFINAL_ONE = "1 of them is an Unfinal invoice: it will be marked as Final once shared."
BULK_UNFINAL_MANY = (
    "{count} of them are Unfinal invoices: they will be marked as Final once shared."
)
BULK_SHARING = "Sharing {count} marked {items} via the client portal..."
BULK_UNSHARING = "Unsharing {count} marked {items} from the client portal..."
BULK_SHARED = "Shared {done} of {count} marked {items}."
BULK_UNSHARED = "Unshared {done} of {count} marked {items}."
BULK_REFUSED = "Not changed ({count}):"
BULK_STOPPED = "The rest was not done: {error}"

# Several staff at once, and a database that goes away.
CROSSED_CHANGE = (
    "Another staff member changed this at the same moment, so nothing was changed. Try again."
)
NOT_SAVED = "Not saved"
EDIT_CROSSED = (
    "{who} changed this {what} at {when}, after you opened it, so your changes were not "
    "saved. Reload to see their version, then make your changes again."
)
EDIT_CROSSED_UNKNOWN = (
    "Someone changed this {what} after you opened it, so your changes were not saved. "
    "Reload to see the new version, then make your changes again."
)
DATABASE_UNREACHABLE = "the {label} at {place} cannot be reached ({reason})"
DATABASE_LOCKED = "the {label} at {place} is busy (locked by another program)"
DATABASE_WAITING = (
    "Waiting for the {label} at {place}: another program has it locked. "
    "Trying for up to {seconds:g} s..."
)
DATABASE_FULL = "the {label} at {place} cannot be written: the disk is full"
# What a command that met one of the above says: the situation, then what to do.
NOTHING_CHANGED = "{situation}; nothing was changed. {advice}"
TRY_WHEN_BACK = "Try again once it is back."
TRY_IN_A_MOMENT = "Try again in a moment."
FREE_SPACE = "Free some space, then try again."
RECONNECTING = (
    "Reconnecting: {situation}. Until it is back, shares and changes are refused; nothing is lost."
)

# Leaving a form, or the app, with work not done.
DISCARD_TITLE = "Discard changes?"
DISCARD_QUESTION = "What you changed here has not been saved."
DISCARD_YES = "Discard"
DISCARD_NO = "Keep editing"
QUIT_PENDING_TITLE = "Quit?"
QUIT_PENDING = (
    "{count} change(s) have not reached the portal yet. They go out the next time portal-tui "
    "opens or `portal-tui sync` runs; until then clients do not see them."
)
QUIT_YES = "Quit"
QUIT_NO = "Stay"

# The embedded portal keeps one address.
EMBEDDED_PORT_TAKEN = (
    "The embedded portal cannot start: its port {port} on 127.0.0.1 is taken by another "
    "program. Stop that program, or set embedded_portal_port to a free port (portal-tui config "
    "shows where settings come from); invitations already sent link to port {port}."
)


# The firm's staff (R1): who may run the firm's staff list, and what keeps it usable.
STAFF_ADMIN_ONLY = "Only Admin staff users may manage staff users."
STAFF_LAST_ADMIN = (
    "The firm must keep at least one active Admin: make another staff user Admin first."
)
STAFF_NOT_YOURSELF = "You cannot disable your own staff user: ask another Admin."
STAFF_UNKNOWN = "There is no staff user with login {login!r}."
STAFF_TAKEN = "A staff user with login {login!r} already exists."
STAFF_NOW_DISABLED = (
    "Your staff user {login!r} was disabled by an administrator, so nothing was changed. "
    "Ask an Admin if you think this is a mistake."
)
STAFF_ROLE_CHANGED = (
    "Your staff user {login!r} is now {role}, so nothing was changed. Open portal-tui again "
    "to go on with what {role} may do."
)
# Staff keys of the built-in SSH door (`portal-tui staff key …`).
STAFF_KEY_TAKEN = (
    "That key ({fingerprint}) is already {whose}: a key opens the app as one staff user only. "
    "Nothing was changed."
)
STAFF_KEY_UNKNOWN = "{login} has no key {fingerprint}: `portal-tui staff key list {login}`."
# What the doors record in the firm's audit trail, and say to whoever they refuse.
DOOR_UNKNOWN_KEY = "unknown key"
DOOR_NOT_PROVEN = "registered key offered but not proven"
DOOR_DISABLED = "disabled staff user"
DOOR_FULL = "over the connection limit"
DOOR_WRONG_TOKEN = "wrong token"
DOOR_TOO_MANY_TRIES = "too many tries"
SSH_DOOR_DISABLED = (
    "portal-tui: the staff user {login} is disabled, so the SSH door does not open for them. "
    "Ask an Admin (portal-tui staff enable {login})."
)
SSH_DOOR_FULL = (
    "portal-tui: the SSH door has {limit} connections open, its limit. Try again in a while, "
    "or ask an Admin to raise --max-connections."
)
SSH_DOOR_IDLE = "portal-tui: closed after {time} with no key pressed."
SSH_DOOR_ONE_APP = "portal-tui: one app per connection; open another connection for another."
SSH_DOOR_NO_SUBSYSTEM = "portal-tui: the SSH door runs the staff app only (no {name})."
FIRM_ALREADY_SET_UP = (
    "This firm database already holds a firm ({name}): nothing was changed. "
    "Use `portal-tui staff add` to add staff users to it."
)

# An event of whole days (no time), in the app and on the portal alike.
ALL_DAY = "All day"

# A share or unshare shown with a toast (the seed has no message box for it) can be taken back
# within UNDO_SECONDS (docs/rules.md, "Undo"); nothing reaches the portal until then.
UNDO_KEY_HINT = "{key} Undo"
UNDO_TITLE = "Undo"
ITEM_UNDONE = "Undone: the {label} is as it was; nothing was sent to the client portal."
UNDO_TOO_LATE = "Too late to undo: the change has already gone to the client portal."
