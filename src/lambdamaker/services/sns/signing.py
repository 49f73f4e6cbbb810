"""Message signatures: SNS's SignatureVersion 1 and 2 with this platform's own key pair.

A subscriber verifies an SNS message as AWS documents ("Verifying the signatures of Amazon SNS
messages"): fetch the certificate at ``SigningCertURL``, build the canonical string from the
message's fields, and check ``Signature`` (base64) against it with the certificate's public key,
SHA1withRSA for SignatureVersion 1 and SHA256withRSA for 2. We hold no AWS key, so the key pair
and a self-signed certificate are this platform's, generated once and kept in the data dir
(``<data_dir>/sns/``); ``SigningCertURL`` points at ``CERT_PATH`` on this server, where the
gateway serves the PEM.

Invariants:
- The key pair never changes once written: every envelope ever sent verifies against the one
  certificate. The key is written before the certificate, each by an atomic rename, and a
  directory holding a key without its certificate is regenerated whole (a crash in between).
- Canonical strings are AWS's: ``Name\\nValue\\n`` pairs in byte order of the names, for
  Notification ``Message, MessageId, Subject (only when present), Timestamp, TopicArn, Type``,
  for SubscriptionConfirmation/UnsubscribeConfirmation ``Message, MessageId, SubscribeURL,
  Timestamp, Token, TopicArn, Type``.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

CERT_PATH = "/_lambdamaker/sns/SimpleNotificationService.pem"
"""Where the gateway serves the signing certificate (``SigningCertURL`` = endpoint + this)."""

NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
CONFIRMATION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)


def canonical_string(fields: dict[str, Any]) -> str:
    """The string SNS signs for a message of ``fields["Type"]``."""
    names = NOTIFICATION_FIELDS if fields.get("Type") == "Notification" else CONFIRMATION_FIELDS
    return "".join(f"{n}\n{fields[n]}\n" for n in names if fields.get(n) is not None)


def _write_atomically(path: Path, data: bytes, mode: int) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


class Signer:
    """The platform's SNS signing key and certificate, loaded (or made) on first use."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._key: rsa.RSAPrivateKey | None = None
        self._cert_pem = b""
        self._recent: dict[tuple[bytes, str], str] = {}
        """Signatures of the last few canonical strings: a message fanned out to N subscribers
        is signed once, not N times (an RSA signature costs about a millisecond)."""

    @property
    def key_path(self) -> Path:
        return self.directory / "signing-key.pem"

    @property
    def cert_path(self) -> Path:
        return self.directory / "SimpleNotificationService.pem"

    def certificate_pem(self) -> bytes:
        self._load()
        return self._cert_pem

    def sign(self, fields: dict[str, Any], version: str) -> str:
        """Base64 ``Signature`` of a message's fields under SignatureVersion ``version``."""
        canonical = canonical_string(fields).encode()
        memo = (hashlib.sha256(canonical).digest(), version)
        cached = self._recent.get(memo)
        if cached is not None:
            return cached
        key = self._load()
        digest: hashes.HashAlgorithm = hashes.SHA256() if version == "2" else hashes.SHA1()
        out = base64.b64encode(key.sign(canonical, padding.PKCS1v15(), digest)).decode()
        if len(self._recent) >= 64:
            self._recent.clear()
        self._recent[memo] = out
        return out

    def _load(self) -> rsa.RSAPrivateKey:
        key = self._key
        if key is not None:
            return key
        with self._lock:
            if self._key is None:
                if not (self.key_path.exists() and self.cert_path.exists()):
                    self._generate()
                loaded = serialization.load_pem_private_key(
                    self.key_path.read_bytes(), password=None
                )
                if not isinstance(loaded, rsa.RSAPrivateKey):
                    raise ValueError(f"{self.key_path} does not hold an RSA key")
                self._cert_pem = self.cert_path.read_bytes()
                self._key = loaded
            return self._key

    def _generate(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, "sns.lambdamaker.local"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "lambdamaker"),
            ]
        )
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=3650))
            .sign(key, hashes.SHA256())
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        _write_atomically(self.key_path, key_pem, 0o600)
        _write_atomically(self.cert_path, cert.public_bytes(serialization.Encoding.PEM), 0o644)
