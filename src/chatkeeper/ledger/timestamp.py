"""RFC 3161 time-stamp tokens: the request, and every check an answer and a token must pass.

Pure (no I/O): ``rfc3161.py`` is the anchor plug-in that sends the request and keeps the token.
docs/ledger.md, "Anchors", lists the checks: the status is granted; the token is CMS
``SignedData`` holding a ``TSTInfo`` whose message imprint is the SHA-256 asked for and whose
nonce is the request's; one signer, whose signed attributes name the ``TSTInfo``'s content type
and digest and (ESS signing-certificate) the signing certificate; that certificate is the one the
signer identifier names (or the pinned one), is for time-stamping and was valid at ``genTime``;
and its key verifies the signature. ASN.1 is asn1crypto's; the signature is checked with
``cryptography``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from asn1crypto import algos, cms, core, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID

from chatkeeper.ledger.errors import AnchorReceiptInvalid, AnchorRefused

_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}  # SHA-1 is refused: a TSA signing with it no longer proves anything


class TimeStampResp(core.Sequence):
    """RFC 3161 §2.4.2 ``TimeStampResp``. asn1crypto's own (1.5.1) makes the token mandatory,
    so it cannot parse a refusal, which has none."""

    _fields = [  # noqa: RUF012 (asn1crypto's declaration style)
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


@dataclass(frozen=True, slots=True)
class TimeStamp:
    """A checked time-stamp token: when, by whom, under which policy."""

    gen_time: datetime
    serial_number: int
    policy: str
    authority: str
    """The signing certificate's subject (RFC 4514)."""
    fingerprint: str
    """SHA-256 of the signing certificate (hex), to compare with the one the TSA publishes."""


def imprint(note: str) -> bytes:
    """What is time-stamped: SHA-256 of the signed checkpoint note's UTF-8 bytes."""
    return hashlib.sha256(note.encode("utf-8")).digest()


def build_request(digest: bytes, nonce: int, policy: str | None = None) -> bytes:
    """A DER ``TimeStampReq`` (RFC 3161 §2.4.1) for a SHA-256 ``digest``, asking for the cert."""
    fields: dict[str, object] = {
        "version": "v1",
        "message_imprint": tsp.MessageImprint(
            {
                "hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "hashed_message": digest,
            }
        ),
        "nonce": nonce,
        "cert_req": True,
    }
    if policy:
        fields["req_policy"] = policy
    return bytes(tsp.TimeStampReq(fields).dump())


def check_response(
    der: bytes, digest: bytes, nonce: int, pinned: x509.Certificate | None = None
) -> tuple[bytes, TimeStamp]:
    """The token (DER) of a granted ``TimeStampResp`` that stamps ``digest`` with ``nonce``.

    Raises ``AnchorRefused`` for a status other than granted, ``AnchorReceiptInvalid`` for
    anything that does not check (each reason named).
    """
    try:
        response = TimeStampResp.load(der)
        status = response["status"]["status"].native
    except (ValueError, TypeError, KeyError) as exc:
        raise AnchorReceiptInvalid("the TSA's answer is not a DER TimeStampResp") from exc
    if status not in ("granted", "granted_with_mods"):
        raise AnchorRefused(f"the time-stamp authority refused the request: {_why(response)}")
    token = response["time_stamp_token"]
    if not isinstance(token, cms.ContentInfo):
        raise AnchorReceiptInvalid("the TSA granted the request but sent no time-stamp token")
    token_der = bytes(token.dump())
    return token_der, check_token(token_der, digest, nonce, pinned)


def _why(response: TimeStampResp) -> str:
    """A refusal's status, its text and failure flags, as the TSA sent them."""
    info = response["status"]
    parts = [str(info["status"].native)]
    text = info["status_string"].native
    if text:
        parts.append("; ".join(str(line) for line in text))
    flags = info["fail_info"].native
    if flags:
        parts.append("fail info: " + ", ".join(sorted(str(flag) for flag in flags)))
    return " — ".join(parts)


def check_token(
    token_der: bytes,
    digest: bytes,
    nonce: int | None = None,
    pinned: x509.Certificate | None = None,
) -> TimeStamp:
    """Check a ``TimeStampToken``: it stamps ``digest`` (and ``nonce``, when given), and its
    signature verifies under the TSA certificate, which must be ``pinned`` when given."""
    try:
        token = cms.ContentInfo.load(token_der)
        if token["content_type"].native != "signed_data":
            raise AnchorReceiptInvalid("the time-stamp token is not CMS SignedData")
        signed = token["content"]
        content = signed["encap_content_info"]
        if content["content_type"].native != "tst_info":
            raise AnchorReceiptInvalid("the time-stamp token does not hold a TSTInfo")
        econtent = bytes(content["content"].contents)
        info = tsp.TSTInfo.load(econtent)
        stamped = info["message_imprint"]
        algorithm = stamped["hash_algorithm"]["algorithm"].native
        if algorithm != "sha256" or stamped["hashed_message"].native != digest:
            raise AnchorReceiptInvalid(
                "the time-stamp token stamps another message imprint than this checkpoint's SHA-256"
            )
        if nonce is not None and info["nonce"].native != nonce:
            raise AnchorReceiptInvalid(
                "the time-stamp token's nonce is not the request's (a replayed or substituted "
                "answer)"
            )
        certificate = _verify_signed_data(signed, econtent, pinned)
        gen_time = info["gen_time"].native
        _check_certificate(certificate, gen_time)
        return TimeStamp(
            gen_time=gen_time,
            serial_number=int(info["serial_number"].native),
            policy=str(info["policy"].native),
            authority=certificate.subject.rfc4514_string(),
            fingerprint=certificate.fingerprint(hashes.SHA256()).hex(),
        )
    except (ValueError, TypeError, KeyError) as exc:
        raise AnchorReceiptInvalid(f"the time-stamp token is malformed ({exc})") from exc


def _verify_signed_data(
    signed: cms.SignedData, econtent: bytes, pinned: x509.Certificate | None
) -> x509.Certificate:
    """The one signer's signature over its signed attributes, which must name the TSTInfo's
    content type and digest and bind the signing certificate; returns that certificate."""
    signers = signed["signer_infos"]
    if len(signers) != 1:
        raise AnchorReceiptInvalid(f"the time-stamp token has {len(signers)} signers, not one")
    signer = signers[0]
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise AnchorReceiptInvalid(f"the TSA signs with digest {digest_name}, which is refused")
    attributes = {attr["type"].native: attr["values"][0] for attr in signer["signed_attrs"]}
    if "message_digest" not in attributes or attributes.get("content_type") is None:
        raise AnchorReceiptInvalid("the TSA's signature has no signed content type and digest")
    if attributes["content_type"].native != "tst_info":
        raise AnchorReceiptInvalid("the TSA's signature is for another content type")
    if attributes["message_digest"].native != hashlib.new(digest_name, econtent).digest():
        raise AnchorReceiptInvalid("the TSA's signature covers another TSTInfo than the token's")
    certificate = _signing_certificate(signed, signer, pinned)
    _check_binding(attributes, certificate)
    # CMS (RFC 5652 §5.4) signs the DER of the signed attributes as a SET OF, not as the
    # [0] IMPLICIT field they are stored in: swap the one tag byte.
    data = b"\x31" + bytes(signer["signed_attrs"].dump())[1:]
    _verify_signature(certificate, signer, data, _HASHES[digest_name]())
    return certificate


def _signing_certificate(
    signed: cms.SignedData, signer: cms.SignerInfo, pinned: x509.Certificate | None
) -> x509.Certificate:
    """The certificate the signer identifier names, among the token's; the pinned one when set."""
    sid = signer["sid"]
    found = None
    certificates = signed["certificates"]
    for choice in certificates if isinstance(certificates, cms.CertificateSet) else []:
        if choice.name != "certificate":
            continue
        candidate: asn1_x509.Certificate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            named = sid.chosen
            match = (
                candidate.issuer == named["issuer"]
                and candidate.serial_number == named["serial_number"].native
            )
        else:
            match = candidate.key_identifier == sid.chosen.native
        if match:
            found = x509.load_der_x509_certificate(bytes(candidate.dump()))
            break
    if pinned is not None:
        if found is not None and found.public_bytes(Encoding.DER) != pinned.public_bytes(
            Encoding.DER
        ):
            raise AnchorReceiptInvalid(
                f"the token is signed by {found.subject.rfc4514_string()}, not by the pinned TSA "
                "certificate"
            )
        return pinned
    if found is None:
        raise AnchorReceiptInvalid("the time-stamp token carries no certificate of its signer")
    return found


def _check_binding(attributes: dict[str, Any], certificate: x509.Certificate) -> None:
    """RFC 3161 §2.4.1 / RFC 5816: the signed ESS signing-certificate attribute names the
    certificate's hash, so a signature cannot be passed off under another certificate."""
    der = certificate.public_bytes(Encoding.DER)
    if "signing_certificate_v2" in attributes:
        first = attributes["signing_certificate_v2"]["certs"][0]
        algorithm = first["hash_algorithm"]["algorithm"].native
        expected = hashlib.new(algorithm, der).digest()
    elif "signing_certificate" in attributes:
        first = attributes["signing_certificate"]["certs"][0]
        expected = hashlib.sha1(der, usedforsecurity=False).digest()
    else:
        raise AnchorReceiptInvalid("the TSA's signature does not name its signing certificate")
    if first["cert_hash"].native != expected:
        raise AnchorReceiptInvalid("the TSA's signature names another signing certificate")


_KEY_TYPES = {
    "rsassa_pkcs1v15": rsa.RSAPublicKey,
    "rsassa_pss": rsa.RSAPublicKey,
    "ecdsa": ec.EllipticCurvePublicKey,
    "ed25519": ed25519.Ed25519PublicKey,
}


def _verify_signature(
    certificate: x509.Certificate, signer: cms.SignerInfo, data: bytes, digest: hashes.HashAlgorithm
) -> None:
    """The signature over ``data``, by the certificate's key, with the algorithm the signer names
    (which must fit the key and the signer's digest: the field is not itself signed)."""
    key = certificate.public_key()
    algorithm = signer["signature_algorithm"]
    name = algorithm.signature_algo
    if not isinstance(key, _KEY_TYPES.get(name, ())):
        raise AnchorReceiptInvalid(f"the TSA's signature algorithm {name} does not fit its key")
    try:
        named_hash = algorithm.hash_algo
    except ValueError:  # rsassa_pkcs1v15 or ecdsa without a hash in the identifier
        named_hash = digest.name
    if name in ("rsassa_pkcs1v15", "ecdsa") and named_hash != digest.name:
        raise AnchorReceiptInvalid("the TSA's signature algorithm names another digest")
    signature = bytes(signer["signature"].native)
    try:
        if isinstance(key, rsa.RSAPublicKey) and name == "rsassa_pss":
            salt = algorithm["parameters"]["salt_length"].native
            key.verify(signature, data, padding.PSS(padding.MGF1(digest), salt), digest)
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, data, padding.PKCS1v15(), digest)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(signature, data, ec.ECDSA(digest))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(signature, data)
    except InvalidSignature as exc:
        raise AnchorReceiptInvalid(
            "the TSA's signature does not verify under its certificate: the token was altered"
        ) from exc


def _check_certificate(certificate: x509.Certificate, at: datetime) -> None:
    """A TSA certificate is for time-stamping only (RFC 3161 §2.3) and valid at ``genTime``."""
    try:
        usage = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise AnchorReceiptInvalid("the signing certificate is not a time-stamping certificate")
    if not certificate.not_valid_before_utc <= at <= certificate.not_valid_after_utc:
        raise AnchorReceiptInvalid("the signing certificate was not valid at the stamped time")
