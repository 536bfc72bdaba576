"""DICOM TLS for every association the harness opens or accepts.

PS3.15 B.9 (BCP 195 non-downgrading profile): TLS 1.2 or later, and for 1.2
only the AEAD suites with forward secrecy the profile lists. Mutual
authentication is optional: with a CA given, the Archive asks for a client
certificate, and `require_client_cert` makes it mandatory.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from pathlib import Path

BCP195_TLS12_CIPHERS = "ECDHE+AESGCM:DHE+AESGCM"


class TLSError(ValueError):
    """A certificate, key or CA file that cannot be used; names the file."""


@dataclass
class TLSConfig:
    cert: Path | None = None  # our certificate chain (PEM); the server needs one
    key: Path | None = None  # its private key (PEM); defaults to `cert`
    ca: Path | None = None  # CA(s) to verify the peer with
    require_client_cert: bool = False
    _server: ssl.SSLContext | None = field(default=None, repr=False, compare=False)
    _client: ssl.SSLContext | None = field(default=None, repr=False, compare=False)

    def _base(self, purpose: ssl.Purpose) -> ssl.SSLContext:
        ctx = ssl.create_default_context(purpose)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(BCP195_TLS12_CIPHERS)
        try:
            if self.ca:
                ctx.load_verify_locations(cafile=str(self.ca))
            if self.cert:
                ctx.load_cert_chain(str(self.cert), str(self.key) if self.key else None)
        except (OSError, ssl.SSLError) as exc:
            raise TLSError(f"TLS files {self.cert or ''} {self.key or ''} {self.ca or ''}: "
                           f"{exc}".replace("  ", " ")) from exc
        return ctx

    def server_context(self) -> ssl.SSLContext:
        if self._server is None:
            if not self.cert:
                raise TLSError("a TLS server needs --tls-cert (and --tls-key)")
            ctx = self._base(ssl.Purpose.CLIENT_AUTH)
            if self.require_client_cert:
                ctx.verify_mode = ssl.CERT_REQUIRED
            elif self.ca:
                ctx.verify_mode = ssl.CERT_OPTIONAL
            else:
                ctx.verify_mode = ssl.CERT_NONE
            self._server = ctx
        return self._server

    def client_context(self) -> ssl.SSLContext:
        if self._client is None:
            self._client = self._base(ssl.Purpose.SERVER_AUTH)
        return self._client

    def describe(self) -> str:
        mutual = "mutual" if self.require_client_cert else "server"
        return f"TLS 1.2+ (BCP 195), {mutual} authentication"
