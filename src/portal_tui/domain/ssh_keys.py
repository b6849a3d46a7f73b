"""A staff member's SSH public key, as `ssh-keygen` writes it (`KEY.pub`: "type base64
comment"), read from text: which kind, the key itself, its comment and its SHA256 fingerprint
(the one `ssh-keygen -l` prints and the built-in SSH door sees at login).

Pure: the text is given, nothing is opened. Anything else — a private key, a certificate, an
authorized_keys line with options, two keys, garbage — is `Invalid`, in one line that says what
to give instead."""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass

from .decision import Invalid

# What OpenSSH's ssh-keygen makes today (and hardware keys); DSA is gone from OpenSSH.
KINDS = frozenset(
    {
        "ssh-ed25519",
        "ssh-rsa",
        "ecdsa-sha2-nistp256",
        "ecdsa-sha2-nistp384",
        "ecdsa-sha2-nistp521",
        "sk-ssh-ed25519@openssh.com",
        "sk-ecdsa-sha2-nistp256@openssh.com",
    }
)
# A 16384-bit RSA key's line is under 3 KB: anything much longer is not a public key.
MAX_KEY_TEXT = 16 * 1024
MAX_COMMENT = 200
FINGERPRINT_PREFIX = "SHA256:"

KEY_NOT_TEXT = "{name} is not a public key file: give the KEY.pub file ssh-keygen wrote."
KEY_PRIVATE = (
    "{name} is a private key: give its public half instead (the KEY.pub file beside it), "
    "and keep the private key to yourself."
)
KEY_EMPTY = "{name} holds no public key: give the KEY.pub file ssh-keygen wrote."
KEY_SEVERAL = "{name} holds {count} keys: give a file with one key (one KEY.pub)."
KEY_KIND = (
    "{name}: {kind!r} is not a kind of SSH key the door takes (use ssh-ed25519, ssh-rsa or "
    "ecdsa-sha2-nistp256/384/521; `ssh-keygen -t ed25519` makes one)."
)
KEY_BROKEN = "{name}: the key's text is damaged ({problem}): copy the KEY.pub file again."


@dataclass(frozen=True, slots=True)
class PublicKey:
    kind: str
    blob: bytes
    comment: str

    @property
    def fingerprint(self) -> str:
        return fingerprint_of(self.blob)

    @property
    def line(self) -> str:
        """The key as one authorized_keys-style line, without the comment."""
        return f"{self.kind} {base64.b64encode(self.blob).decode('ascii')}"


def fingerprint_of(blob: bytes) -> str:
    """OpenSSH's SHA256 fingerprint of a key's wire form: "SHA256:" and unpadded base64."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii").rstrip("=")
    return FINGERPRINT_PREFIX + digest


def normal_fingerprint(text: str) -> str:
    """A fingerprint as typed ("SHA256:abc…" or just "abc…") in the stored form."""
    text = text.strip()
    if text[: len(FINGERPRINT_PREFIX)].upper() == FINGERPRINT_PREFIX:
        text = text[len(FINGERPRINT_PREFIX) :]
    return FINGERPRINT_PREFIX + text.rstrip("=")


def parse_public_key(text: str, name: str = "The file") -> PublicKey:
    """The one public key of `text` (a KEY.pub file's content), or Invalid naming `name`."""
    if len(text) > MAX_KEY_TEXT or "\x00" in text:
        raise Invalid(KEY_NOT_TEXT.format(name=name))
    if "PRIVATE KEY" in text:
        raise Invalid(KEY_PRIVATE.format(name=name))
    lines = [ln.strip() for ln in text.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith("#")]
    if not lines:
        raise Invalid(KEY_EMPTY.format(name=name))
    if len(lines) > 1:
        raise Invalid(KEY_SEVERAL.format(name=name, count=len(lines)))
    if lines[0].startswith("----"):
        raise Invalid(
            f"{name} is in the RFC 4716 form: convert it with `ssh-keygen -i -f FILE` first."
        )
    parts = lines[0].split(None, 2)
    kind = parts[0]
    if kind not in KINDS:
        if "-cert-" in kind:
            problem = f"{name} is a certificate: give the plain public key (KEY.pub)."
            raise Invalid(problem)
        if len(parts) > 1 and parts[1] in KINDS:
            raise Invalid(
                f"{name} has options before the key (an authorized_keys line): give the key "
                "alone, as in KEY.pub."
            )
        raise Invalid(KEY_KIND.format(name=name, kind=kind[:40]))
    if len(parts) < 2:
        raise Invalid(KEY_BROKEN.format(name=name, problem="the key itself is missing"))
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid(KEY_BROKEN.format(name=name, problem="not base64")) from None
    inner = _first_string(blob)
    if inner is None or inner != kind.encode("ascii"):
        raise Invalid(KEY_BROKEN.format(name=name, problem="its kind and its data disagree"))
    if kind == "ssh-ed25519" and _ed25519_length(blob) != 32:
        raise Invalid(KEY_BROKEN.format(name=name, problem="not a whole ed25519 key"))
    comment = " ".join(parts[2].split()) if len(parts) > 2 else ""
    return PublicKey(kind, blob, comment[:MAX_COMMENT])


def _first_string(blob: bytes) -> bytes | None:
    """The first SSH wire string of `blob` (a 4-byte length, then that many bytes)."""
    if len(blob) < 4:
        return None
    (length,) = struct.unpack(">I", blob[:4])
    if length > len(blob) - 4:
        return None
    return blob[4 : 4 + length]


def _ed25519_length(blob: bytes) -> int:
    (length,) = struct.unpack(">I", blob[:4])
    rest = blob[4 + length :]
    if len(rest) < 4:
        return -1
    (key_length,) = struct.unpack(">I", rest[:4])
    return key_length if len(rest) == 4 + key_length else -1
