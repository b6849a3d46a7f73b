"""A session's device as a client recognises it on the account page: "Firefox on Windows",
"Mobile Safari on iPhone", from the browser's User-Agent (ua-parser's rules, offline).

Worked out once, when the session begins, and stored shortened: the page lists it as text."""

from __future__ import annotations

DEVICE_MAX = 120
# A User-Agent is the client's text: past this it says nothing more a person needs, and the
# parser's cost grows with it.
_PARSED = 512
UNKNOWN = "Unknown browser"


def device_label(user_agent: str | None) -> str:
    if not user_agent or not user_agent.strip():
        return UNKNOWN
    # Imported at the first sign-in: its rules take a moment to load, which start-up need not.
    from ua_parser import parse

    result = parse(user_agent[:_PARSED])
    browser = result.user_agent.family if result.user_agent is not None else ""
    system = result.os.family if result.os is not None else ""
    device = result.device.family if result.device is not None else ""
    # A phone or tablet is named by the device (iPhone, Pixel 8); a computer by its system.
    where = device if device and device not in {"Other", "Mac", "Generic Smartphone"} else system
    if browser in {"", "Other"}:
        browser = UNKNOWN
    label = f"{browser} on {where}" if where and where != "Other" else browser
    return " ".join(label.split())[:DEVICE_MAX]
