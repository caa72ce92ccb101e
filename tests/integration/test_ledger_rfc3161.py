"""The RFC 3161 anchor against a real time-stamp authority on 127.0.0.1.

``LocalTsa`` is a small but real TSA: an HTTP server in a thread that parses each DER
``TimeStampReq`` (asn1crypto), builds a ``TSTInfo`` for its imprint and nonce, and signs it as
CMS ``SignedData`` with a self-signed time-stamping certificate made with ``cryptography``. Its
``mode`` makes it misbehave the ways a TSA (or someone between it and us) could: stamp another
imprint, answer with another nonce, send a broken signature, refuse, or fail over HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from chatkeeper.errors import ConfigError
from chatkeeper.ledger import SHA256, Checkpoint, generate_signing_key, sign_checkpoint
from chatkeeper.ledger.anchor import FileDropAnchor, open_anchor
from chatkeeper.ledger.errors import AnchorReceiptInvalid, AnchorRefused, AnchorUnavailable
from chatkeeper.ledger.rfc3161 import (
    QUERY_TYPE,
    TimeStampAuthorityAnchor,
    TimeStampResp,
    build_request,
    imprint,
    verify_timestamp_receipt,
)

ORIGIN = "chatkeeper.test/messages"
KEY = generate_signing_key(ORIGIN)
NOTE = sign_checkpoint(Checkpoint.of(ORIGIN, 12, hashlib.sha256(b"r").digest(), SHA256), KEY)
OTHER_NOTE = sign_checkpoint(Checkpoint.of(ORIGIN, 13, hashlib.sha256(b"s").digest(), SHA256), KEY)
AT = datetime(2026, 11, 28, tzinfo=UTC)


def tsa_certificate(
    kind: str = "ec", name: str = "ChatKeeper test TSA"
) -> tuple[Any, x509.Certificate]:
    """A private key and a self-signed certificate for time-stamping only (RFC 3161 §2.3)."""
    key: Any = (
        ec.generate_private_key(ec.SECP256R1())
        if kind == "ec"
        else rsa.generate_private_key(public_exponent=65537, key_size=2048)
    )
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def _issuer_and_serial(certificate: asn1_x509.Certificate) -> cms.SignerIdentifier:
    named = {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
    return cms.SignerIdentifier({"issuer_and_serial_number": cms.IssuerAndSerialNumber(named)})


class LocalTsa:
    """A real RFC 3161 TSA over HTTP on 127.0.0.1 (see the module docstring)."""

    MODES = ("good", "wrong_imprint", "wrong_nonce", "bad_signature", "reject", "http_error")

    def __init__(self, kind: str = "ec") -> None:
        self.key, self.certificate = tsa_certificate(kind)
        self.kind = kind
        self.mode = "good"
        self.serial = 0
        self.requests: list[tuple[str, tsp.TimeStampReq]] = []
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                request = tsp.TimeStampReq.load(body)
                tsa.requests.append((self.headers["Content-Type"], request))
                if tsa.mode == "http_error":
                    self.send_error(500, "TSA out of order")
                    return
                answer = tsa.respond(request)
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/tsr"

    def respond(self, request: tsp.TimeStampReq) -> bytes:
        """A DER ``TimeStampResp`` for the request, as the mode has it."""
        if self.mode == "reject":
            status = tsp.PKIStatusInfo(
                {"status": "rejection", "status_string": ["unsupported algorithm"],
                 "fail_info": {"bad_alg"}}
            )  # fmt: skip
            return bytes(TimeStampResp({"status": status}).dump())
        imprint_ = request["message_imprint"]
        if self.mode == "wrong_imprint":
            imprint_ = tsp.MessageImprint(
                {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                 "hashed_message": hashlib.sha256(b"something else").digest()}
            )  # fmt: skip
        nonce = request["nonce"].native
        if self.mode == "wrong_nonce":
            nonce += 1
        self.serial += 1
        info = tsp.TSTInfo(
            {"version": "v1", "policy": "1.3.6.1.4.1.55555.1", "message_imprint": imprint_,
             "serial_number": self.serial,
             "gen_time": datetime.now(UTC).replace(microsecond=0), "nonce": nonce}
        )  # fmt: skip
        token = self.sign(info)
        status = tsp.PKIStatusInfo({"status": "granted"})
        return bytes(tsp.TimeStampResp({"status": status, "time_stamp_token": token}).dump())

    def sign(self, info: tsp.TSTInfo) -> cms.ContentInfo:
        """CMS SignedData over the TSTInfo, signed attributes binding the certificate."""
        econtent = info.dump()
        cert_der = self.certificate.public_bytes(serialization.Encoding.DER)
        certificate = asn1_x509.Certificate.load(cert_der)
        ess = tsp.SigningCertificateV2(
            {"certs": [tsp.ESSCertIDv2({"cert_hash": hashlib.sha256(cert_der).digest()})]}
        )
        attributes = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
                cms.CMSAttribute(
                    {"type": "message_digest", "values": [hashlib.sha256(econtent).digest()]}
                ),
                cms.CMSAttribute({"type": "signing_certificate_v2", "values": [ess]}),
            ]
        )
        algorithm = "sha256_ecdsa" if self.kind == "ec" else "sha256_rsa"
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": _issuer_and_serial(certificate),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": algorithm}),
                "signature": b"",
            }
        )
        to_sign = b"\x31" + signer["signed_attrs"].dump()[1:]
        if self.kind == "ec":
            signature = self.key.sign(to_sign, ec.ECDSA(hashes.SHA256()))
        else:
            signature = self.key.sign(to_sign, padding.PKCS1v15(), hashes.SHA256())
        if self.mode == "bad_signature":
            signature = signature[:-1] + bytes([signature[-1] ^ 0x01])
        signer["signature"] = signature
        signed = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {"content_type": "tst_info", "content": info},
                "certificates": [certificate],
                "signer_infos": [signer],
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": signed})

    def __enter__(self) -> LocalTsa:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def tsa() -> Iterator[LocalTsa]:
    with LocalTsa() as server:
        yield server


def _anchor(tsa: LocalTsa, options: str = "") -> TimeStampAuthorityAnchor:
    anchor = open_anchor(f"rfc3161:{tsa.url}{options}")
    assert isinstance(anchor, TimeStampAuthorityAnchor)
    return anchor


class TestStamping:
    """GIVEN a TSA WHEN a checkpoint is published THEN the token is checked and kept, and it
    re-checks later against that checkpoint and no other."""

    def test_a_checkpoint_is_stamped_and_the_receipt_rechecks(self, tsa: LocalTsa) -> None:
        receipt = _anchor(tsa).publish("messages", 12, NOTE, AT)
        content_type, request = tsa.requests[-1]
        assert content_type == QUERY_TYPE
        assert request["message_imprint"]["hashed_message"].native == imprint(NOTE)
        assert request["cert_req"].native is True and request["nonce"].native is not None
        token = base64.b64decode(receipt, validate=True)
        assert cms.ContentInfo.load(token)["content_type"].native == "signed_data"
        checked = _anchor(tsa).verify_receipt(NOTE, receipt)
        assert checked.kind == "rfc3161" and "ChatKeeper test TSA" in checked.authority
        assert checked.time is not None
        assert abs(checked.time - datetime.now(UTC)) < timedelta(minutes=1)

    def test_the_imprint_is_the_sha256_of_the_signed_note(self) -> None:
        assert imprint(NOTE) == hashlib.sha256(NOTE.encode("utf-8")).digest()
        request = tsp.TimeStampReq.load(build_request(imprint(NOTE), 7))
        assert request["message_imprint"]["hash_algorithm"]["algorithm"].native == "sha256"
        assert request["nonce"].native == 7 and request["version"].native == "v1"

    def test_an_rsa_tsa_works_too(self) -> None:
        with LocalTsa("rsa") as rsa_tsa:
            receipt = _anchor(rsa_tsa).publish("messages", 12, NOTE, AT)
            assert verify_timestamp_receipt(NOTE, receipt).serial_number == 1

    def test_the_receipt_does_not_fit_another_checkpoint(self, tsa: LocalTsa) -> None:
        receipt = _anchor(tsa).publish("messages", 12, NOTE, AT)
        with pytest.raises(AnchorReceiptInvalid, match="another message imprint"):
            _anchor(tsa).verify_receipt(OTHER_NOTE, receipt)

    @pytest.mark.parametrize("offset", [-1, -80, 200, 400])
    def test_a_changed_byte_of_a_stored_receipt_is_detected(
        self, tsa: LocalTsa, offset: int
    ) -> None:
        token = bytearray(base64.b64decode(_anchor(tsa).publish("messages", 12, NOTE, AT)))
        token[offset] ^= 0x01
        with pytest.raises(AnchorReceiptInvalid):
            verify_timestamp_receipt(NOTE, base64.b64encode(bytes(token)).decode())

    def test_a_receipt_that_is_not_base64_is_refused(self) -> None:
        with pytest.raises(AnchorReceiptInvalid, match="not a base64"):
            verify_timestamp_receipt(NOTE, "not a token!")


class TestMisbehavingAuthority:
    """GIVEN a TSA (or a man in the middle) that answers wrongly WHEN a checkpoint is published
    THEN the answer is refused, and the error says why."""

    @pytest.mark.parametrize(
        ("mode", "error", "message"),
        [
            ("wrong_imprint", AnchorReceiptInvalid, "another message imprint"),
            ("wrong_nonce", AnchorReceiptInvalid, "nonce is not the request's"),
            ("bad_signature", AnchorReceiptInvalid, "signature does not verify"),
            ("reject", AnchorRefused, "rejection — unsupported algorithm — fail info: bad_alg"),
            ("http_error", AnchorUnavailable, "answered HTTP 500"),
        ],
    )
    def test_a_wrong_answer_is_refused(
        self, tsa: LocalTsa, mode: str, error: type[Exception], message: str
    ) -> None:
        tsa.mode = mode
        with pytest.raises(error, match=message):
            _anchor(tsa).publish("messages", 12, NOTE, AT)

    def test_an_unreachable_url_is_named(self) -> None:
        with socket.socket() as probe:  # a port nothing listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        url = f"http://127.0.0.1:{port}/tsr"
        with pytest.raises(
            AnchorUnavailable, match=f"cannot reach the time-stamp authority at {url}"
        ):
            open_anchor(f"rfc3161:{url}#timeout=2").publish("messages", 12, NOTE, AT)


class TestPinnedCertificate:
    """GIVEN a setting that pins the TSA certificate WHEN another certificate signs THEN the
    token is refused, when publishing and when re-checking."""

    def test_the_pinned_certificate_is_accepted(self, tsa: LocalTsa, tmp_path: Path) -> None:
        pem = tmp_path / "tsa.pem"
        pem.write_bytes(tsa.certificate.public_bytes(serialization.Encoding.PEM))
        anchor = _anchor(tsa, f"#cert={pem}")
        assert anchor.verify_receipt(NOTE, anchor.publish("messages", 12, NOTE, AT)).time

    def test_another_certificate_is_refused(self, tsa: LocalTsa, tmp_path: Path) -> None:
        der = tmp_path / "other.der"
        der.write_bytes(tsa_certificate()[1].public_bytes(serialization.Encoding.DER))
        with pytest.raises(AnchorReceiptInvalid, match="not by the pinned TSA certificate"):
            _anchor(tsa, f"#cert={der}").publish("messages", 12, NOTE, AT)
        receipt = _anchor(tsa).publish("messages", 12, NOTE, AT)
        with pytest.raises(AnchorReceiptInvalid, match="pinned"):
            _anchor(tsa, f"#cert={der}").verify_receipt(NOTE, receipt)


class TestSettings:
    """GIVEN a malformed ``ledger.anchor`` WHEN it is opened THEN the error names the setting."""

    @pytest.mark.parametrize(
        ("setting", "message"),
        [
            ("rfc3161:ftp://tsa.example/tsr", "http:// or https:// URL"),
            ("rfc3161:https://tsa.example/tsr#pin=x", r"unknown rfc3161 option\(s\) pin"),
            ("rfc3161:https://tsa.example/tsr#timeout=soon", "timeout must be seconds"),
            ("rfc3161:https://tsa.example/tsr#cert=/nonexistent.pem", "cannot be read"),
            ("tianping:https://chain.example", "unknown anchor 'tianping:https"),
        ],
    )
    def test_the_error_names_the_key(self, setting: str, message: str) -> None:
        with pytest.raises(ConfigError, match=message) as caught:
            open_anchor(setting)
        assert caught.value.details["key"] == "ledger.anchor"
        assert "ledger.anchor" in caught.value.message

    def test_the_options_are_read(self) -> None:
        anchor = open_anchor("rfc3161:https://tsa.example/tsr#policy=1.2.3&timeout=2.5")
        assert isinstance(anchor, TimeStampAuthorityAnchor)
        assert (anchor.url, anchor.policy, anchor.timeout) == (
            "https://tsa.example/tsr", "1.2.3", 2.5,
        )  # fmt: skip


class TestFileDrop:
    """GIVEN a checkpoint dropped into a folder WHEN the receipt is re-checked THEN the file must
    still hold the note byte for byte."""

    def test_the_dropped_file_rechecks_and_an_edit_is_named(self, tmp_path: Path) -> None:
        anchor = FileDropAnchor(tmp_path / "notary")
        receipt = anchor.publish("messages", 12, NOTE, AT)
        assert anchor.verify_receipt(NOTE, receipt).time is None
        Path(receipt).write_text(NOTE.replace("12", "13", 1), encoding="utf-8")
        with pytest.raises(AnchorReceiptInvalid, match="differs from the checkpoint"):
            anchor.verify_receipt(NOTE, receipt)
        Path(receipt).unlink()
        with pytest.raises(AnchorReceiptInvalid, match="cannot be read"):
            anchor.verify_receipt(NOTE, receipt)


def test_core_asn1_is_what_the_tsa_parses() -> None:
    """The request is plain DER a TSA's parser accepts (round trip through asn1crypto)."""
    der = build_request(imprint(NOTE), 1 << 63, policy="1.3.6.1.4.1.55555.1")
    assert tsp.TimeStampReq.load(der).dump() == der
    assert isinstance(tsp.TimeStampReq.load(der)["req_policy"], core.ObjectIdentifier)
