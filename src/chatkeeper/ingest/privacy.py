"""The privacy steps of the ingest pipeline: detect and mask, then encrypt.

``ProtectStep`` finds the personal data in each record, replaces the record's text with its
masked form (the only form that is ever stored in clear or indexed), masks the customer's name,
and keeps the originals aside on the item. ``SealStep`` encrypts those originals: the whole
original record under a key of the conversation, each personal value under a key of the customer
(or of the conversation, when the customer is unknown) for the vault, with its blind index.
Neither needs the database. ``ProtectStep`` runs in the reader processes; ``SealStep`` runs in
the main process when there is one reader (the reader is then the busier side) and in the readers
when there are several (the originals cross the pipe between the processes of one ingest run,
never a disk).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any, NamedTuple

from chatkeeper.crypto import DataKey, KeyEncryptionKey, encrypt, generate_data_key
from chatkeeper.domain import CanonicalMessage, SenderRole
from chatkeeper.ingest.pipeline import Batch
from chatkeeper.privacy.analyzer import default_analyzer
from chatkeeper.privacy.findings import Finding, KnownValues, PiiType
from chatkeeper.privacy.normalise import canonical_value
from chatkeeper.privacy.operators import LABELS, Operator, apply, mask_value, replacer
from chatkeeper.store import original as original_record
from chatkeeper.store.ledger import message_leaf
from chatkeeper.store.original import SALT_PLACEHOLDER, derived_salt
from chatkeeper.store.prepared import SEALED_FIELDS, NewKey, StorableMessage, VaultEntry

BLIND_INDEX_BYTES = 16
_NAME_CACHE = 200_000


def blind_index(key: bytes, kind: PiiType, canonical: str) -> bytes:
    """The keyed look-up token of a value: HMAC-SHA256 over type and canonical form.

    Keyed, so nobody without the key can test guesses against the index (an unkeyed hash of a
    mobile number is reversed by trying all 10^9 of them).
    """
    return hmac.new(key, f"{kind}\x00{canonical}".encode(), hashlib.sha256).digest()[
        :BLIND_INDEX_BYTES
    ]


def vault_reference(finding: Finding) -> str:
    """The ``encrypt`` operator's label: the value's type and where it starts in the original,
    which is how ``chatkeeper unmask MESSAGE_ID --at START`` finds its vault entry."""
    return f"[{LABELS[finding.type]}@{finding.start}]"


class Sensitive(NamedTuple):
    """What a record held before masking: kept on the item until it is encrypted (a named
    tuple: it crosses from the reader process, and tuples pickle fast)."""

    original: bytes  # JSON of the original text, raw record, payload and sender name
    values: list[tuple[str, int | None, int | None, str, bytes]]  # type, start, end, value, blind
    content: str | None  # the original text, committed to by the ledger leaf


def _mask_payload(value: Any, replace: Any) -> Any:
    """Mask every string inside a payload (link titles, file names, addresses...)."""
    if isinstance(value, str):
        findings = default_analyzer().analyze(value)
        return apply(value, findings, replace) if findings else value
    if isinstance(value, dict):
        return {key: _mask_payload(item, replace) for key, item in value.items()}
    if isinstance(value, list):
        return [_mask_payload(item, replace) for item in value]
    return value


class ProtectStep:
    """Detect personal data and mask it; keep the originals on the item for ``EncryptStep``."""

    name, transactional = "protect", False

    def __init__(self, blind_key: bytes, pseudonym_key: bytes, policy: Mapping[PiiType, Operator]):
        self.blind_key = blind_key
        self.pseudonym_key = pseudonym_key
        self.policy = dict(policy)
        # Customers' names seen so far in this run, so that an agent's "王小明您好" is masked
        # too. Bounded: the oldest half is dropped when it is full.
        self._names: dict[tuple[str, str], str] = {}

    def __call__(self, batch: Batch) -> None:
        """Mask each pending record in place."""
        replace = replacer(
            self.policy,
            canonical=canonical_value,
            pseudonym_key=self.pseudonym_key,
            vault_ref=vault_reference,
        )
        analyzer = default_analyzer()
        pending = list(batch.pending())
        for item in pending:  # first pass: every customer name the batch gives
            r = item.record
            if r is not None and r.sender_role is SenderRole.CUSTOMER and r.sender_name:
                self._names[(r.platform, r.customer_id or r.sender_id or "")] = r.sender_name
        if len(self._names) > _NAME_CACHE:
            for key in list(self._names)[: _NAME_CACHE // 2]:
                del self._names[key]
        for item in pending:
            record = item.record
            assert record is not None
            item.record, item.sensitive = self._protect(record, analyzer, replace)

    def _protect(
        self, record: CanonicalMessage, analyzer: Any, replace: Any
    ) -> tuple[CanonicalMessage, Sensitive]:
        is_customer = record.sender_role is SenderRole.CUSTOMER
        name = record.sender_name if is_customer else None
        customer_name = self._names.get((record.platform, record.customer_id or ""))
        text = record.text
        # Only names that occur in the text are worth the known-value recogniser's time.
        known_names = tuple({n for n in (name, customer_name) if n and text and n in text})
        known = KnownValues(names=known_names) if known_names else None
        findings: list[Finding] = analyzer.analyze(text, known) if text else []
        values: list[tuple[str, int | None, int | None, str, bytes]] = [
            (
                str(f.type),
                f.start,
                f.end,
                f.value(text),  # type: ignore[arg-type]
                blind_index(self.blind_key, f.type, canonical_value(f.type, f.value(text))),  # type: ignore[arg-type]
            )
            for f in findings
        ]
        if name:
            canonical = canonical_value(PiiType.PERSON_NAME, name)
            values.append(
                (str(PiiType.PERSON_NAME), None, None, name,
                 blind_index(self.blind_key, PiiType.PERSON_NAME, canonical))
            )  # fmt: skip
        masked_text = apply(text, findings, replace) if text else text
        masked_payload = _mask_payload(record.payload, replace) if record.payload else None
        original = original_record.pack(  # the salt is derived from the key when sealed
            SALT_PLACEHOLDER, text, masked_text, record.payload, masked_payload, record.raw, name
        )
        masked = record._replace(
            text=masked_text,
            raw=None,
            payload=masked_payload,
            sender_name=mask_value(PiiType.PERSON_NAME, name) if name else record.sender_name,
        )
        return masked, Sensitive(original, values, text)


class SealStep:
    """Encrypt the originals and the vault values.

    Each batch gets fresh data keys, one per owner it touches (conversation; customer), wrapped
    with the KEK right here: no key ever has to be looked up or locked, so the step needs no
    query and could run in either process (see the module docstring for where it runs). An
    owner therefore holds one key per batch that touched it; purging or erasing the owner
    destroys them all. Only the keys of records actually stored are kept.
    """

    name = "seal"

    def __init__(self, kek: KeyEncryptionKey, suite: str, *, in_writer: bool = False) -> None:
        self.kek = kek
        self.suite = suite
        # Where it runs is a matter of balance, not of correctness. Readers seal whenever there
        # are any: with one reader, sealing there ran at 11.5-12.7k msg/s against 10.2k with the
        # writer sealing (200,000 demo messages, 2 cores, bench.ledger_overhead), the writer
        # being the busier side once it also stores the ledger and the classes.
        self.transactional = in_writer

    def __call__(self, batch: Batch) -> None:
        """Replace each pending item's plaintext originals by ciphertexts."""
        keys: dict[tuple[str, str], DataKey] = {}

        def key_for(owner: tuple[str, str]) -> DataKey:
            key = keys.get(owner)
            if key is None:
                key = keys[owner] = generate_data_key(self.suite, key_id=secrets.token_hex(8))
            return key

        for item in batch.pending():
            p, sensitive = item.prepared, item.sensitive
            if p is None or sensitive is None:
                continue
            conversation_key = key_for(("conversation", f"{p.platform}:{p.conversation_id}"))
            owner_key = (
                key_for(("customer", f"{p.platform}:{p.customer_id}"))
                if p.customer_id
                else conversation_key
            )
            context = f"{p.platform}:{p.message_id}".encode()
            vault = tuple(
                VaultEntry(kind, start, end, owner_key.key_id,
                           encrypt(value.encode(), owner_key, context), blind)
                for kind, start, end, value, blind in sensitive.values
            )  # fmt: skip
            # The salt and the nonces derive from the key (store.original.derived_salt, a
            # synthetic IV): a cold record need not keep either (docs/lifecycle.md).
            salt = derived_salt(conversation_key, context)
            original = original_record.with_salt(sensitive.original, salt)
            ciphertext = encrypt(original, conversation_key, context, derived=True)
            leaf = message_leaf(
                platform=p.platform,
                conversation_id=p.conversation_id,
                message_id=p.message_id,
                sent_at_ms=p.sent_at,
                sender_role=p.sender_role,
                key_id=conversation_key.key_id,
                ciphertext=ciphertext,
                text=sensitive.content,
                salt=salt,
            )
            # The sealing fields close the tuple: rebuilt directly, cheaper than _replace.
            item.prepared = StorableMessage._make(
                (*p[:SEALED_FIELDS], ciphertext, conversation_key.key_id, vault, leaf.leaf_hash(),
                 p.klass, p.risk)
            )  # fmt: skip
            item.sensitive = None
        batch.new_keys = [
            NewKey(key.key_id, kind, ref, key.suite, self.kek.kek_id, self.kek.wrap(key))
            for (kind, ref), key in keys.items()
        ]
