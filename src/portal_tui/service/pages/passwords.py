"""What a client's new password must be (NIST SP 800-63B 3.1.1.2, OWASP ASVS V6): at least 12
characters, and not easy to guess — a zxcvbn score of at least 3, counting the firm's and the
client's own names as guessable. No composition rules, no network (the word lists ship with
zxcvbn). The same rule for the invitation's first password and for a reset."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

PASSWORD_MIN = 12
# argon2 takes any length, but hashing megabytes per attempt would be a cheap way to load us.
PASSWORD_MAX = 1024
MIN_SCORE = 3
# zxcvbn's cost grows with the length; past this many characters a password is long enough
# that the prefix decides (its authors recommend truncating).
_JUDGED = 100


def _words(names: Iterable[str]) -> list[str]:
    words: list[str] = []
    for name in names:
        if name and name.strip():
            words.append(name.strip())
            words += [w for w in re.split(r"\W+", name) if len(w) >= 3]
    return words


def _judge(password: str, guessable: list[str]) -> dict[str, Any]:
    # Imported on the first password judged: 0.2 s the portal's start does not need to pay.
    from zxcvbn import zxcvbn

    result: dict[str, Any] = zxcvbn(password[:_JUDGED], user_inputs=guessable)
    return result


def password_errors(password: str, confirm: str, *, names: Iterable[str]) -> dict[str, str]:
    """Field -> the reason it is refused; empty when the password may be used."""
    if len(password) < PASSWORD_MIN:
        return {"password": f"Use at least {PASSWORD_MIN} characters."}
    if len(password) > PASSWORD_MAX:
        return {"password": f"Use at most {PASSWORD_MAX} characters."}
    words = _words(names)
    # Judged as typed and with spaces and punctuation taken out: "Zebulon Quarrington" is two
    # of the client's words, whatever stands between them.
    squeezed = re.sub(r"[\W_]+", "", password)
    judged = min(
        (_judge(p, words) for p in {password, squeezed} if p),
        key=lambda result: int(result["score"]),
    )
    if int(judged["score"]) < MIN_SCORE:
        feedback = judged.get("feedback") or {}
        warning = str(feedback.get("warning") or "").strip()
        hint = " ".join(str(s) for s in feedback.get("suggestions") or [] if s)
        reason = "This password would be easy to guess"
        reason += f": {warning.rstrip('.')}." if warning else "."
        return {"password": f"{reason} {hint or 'Add another word or two.'}".strip()}
    if confirm != password:
        return {"confirm": "The two passwords are not the same."}
    return {}
