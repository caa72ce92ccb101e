"""The recycle bin, purge by crypto-shredding and deletion certificates, on every backend.

Written GIVEN / WHEN / THEN. The clock is the context's (``ctx.clock``).
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from chatkeeper.crypto import DataKey, decrypt, peek
from chatkeeper.crypto.errors import CryptoError
from chatkeeper.domain import Actor
from chatkeeper.governance import ApprovalRequired
from chatkeeper.lifecycle.errors import LegalHoldActive
from chatkeeper.services import Context
from chatkeeper.services.accounts import add_user
from chatkeeper.services.approvals import decide
from chatkeeper.services.holds import create_hold
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.ledger import verify_ledger
from chatkeeper.services.purge import (
    CertificateInvalid,
    export_certificate,
    list_certificates,
    purge,
    verify_certificate,
    verify_certificate_file,
)
from chatkeeper.services.recycle import (
    BinWindowElapsed,
    bin_times,
    list_bin,
    move_to_bin,
    restore_from_bin,
)
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.store.keys import KeyDestroyed
from tests.factories import record, write_jsonl

SYSTEM = Actor("job", frozenset({"system"}))
LEGAL = Actor("legal", frozenset({"legal"}))
LEGAL2 = Actor("legal2", frozenset({"legal"}))
PASSWORD = "correct horse battery"
NOW = 1_800_000_000.0
DAY = 86_400.0
PHONE = "手机13812345678，请退款"


def _records() -> list[dict]:
    out = []
    for conversation, customer, count in (
        ("p-gone", "u1", 3),
        ("p-keep", "u2", 2),
        ("p-held", "u3", 1),
    ):
        for n in range(count):
            out.append(
                record(
                    conversation_id=conversation,
                    message_id=f"{conversation}-{n}",
                    customer_id=customer,
                    sender_id=customer,
                    text=PHONE if n == 0 else "退款到账了吗",
                )
            )
    return out


@pytest.fixture
def world(ctx: Context, tmp_path: Path) -> Context:
    ingest_files(ctx, SYSTEM, [write_jsonl(tmp_path / "p.jsonl", _records())], "jsonl")
    for name in ("legal", "legal2"):
        add_user(ctx, SYSTEM, name, "legal", PASSWORD)
    ctx.clock = lambda: NOW
    return ctx


def _pk(ctx: Context, conversation: str) -> int:
    with ctx.archive.reader() as connection:
        return int(ctx.archive.find_conversation(connection, conversation, None)["id"])


def _one(ctx: Context, sql: str) -> object:
    with ctx.archive.reader() as connection:
        return connection.exec_driver_sql(sql).scalar()


def _total(ctx: Context, query: str = "退款") -> int:
    return search(ctx, SYSTEM, SearchRequest(query)).total


def _approved(call, approver: Actor = LEGAL2):
    try:
        call(None)
    except ApprovalRequired as filed:
        decide(call.ctx, approver, filed.request_id, True)
        return filed.request_id, call(filed.request_id)
    raise AssertionError("a key operation ran without approval")


class _Call:
    def __init__(self, ctx: Context, function, *args, **kwargs) -> None:
        self.ctx, self.function, self.args, self.kwargs = ctx, function, args, kwargs

    def __call__(self, approval: int | None):
        return self.function(self.ctx, *self.args, approval=approval, **self.kwargs)


class TestRecycleBin:
    def test_a_binned_conversation_leaves_search_and_is_listed(self, world) -> None:
        """GIVEN three conversations WHEN legal bins p-gone THEN search totals drop by its
        three messages, its state is recycle_bin (show refuses it), and bin list names it
        with its purge due 30 days later."""
        before = _total(world)
        done = move_to_bin(world, LEGAL, [_pk(world, "p-gone")], "到期")
        assert done["binned"] == ["webchat:p-gone"] and done["messages_unindexed"] == 3
        assert _total(world) == before - 3
        assert _one(world, "SELECT state FROM conversations WHERE external_id = 'p-gone'") == (
            "recycle_bin"
        )
        listed = list_bin(world, LEGAL)
        assert [e["conversation_id"] for e in listed] == ["p-gone"]
        assert listed[0]["department"] == "售后服务部" and listed[0]["service_type"]
        assert listed[0]["binned_at"].startswith("2027-01-15T16:00:00")
        assert listed[0]["purge_due_at"].startswith("2027-02-14T16:00:00")
        assert listed[0]["restorable"] is True
        with world.archive.reader() as connection:
            assert bin_times(connection) == {_pk(world, "p-gone"): int(NOW * 1000)}

    def test_restore_within_the_window_needs_approval_and_reindexes(self, world) -> None:
        """GIVEN p-gone binned WHEN legal restores it 29 days later, legal2 approving THEN it
        is active again and search finds its messages again."""
        before = _total(world)
        move_to_bin(world, LEGAL, [_pk(world, "p-gone")], "到期")
        world.clock = lambda: NOW + 29 * DAY
        request, restored = _approved(_Call(world, restore_from_bin, LEGAL, "p-gone", "误删"))
        assert restored == {
            "conversation": "webchat:p-gone",
            "state": "active",
            "messages_indexed": 3,
            "approval": request,
        }
        assert _total(world) == before
        assert list_bin(world, LEGAL) == []

    def test_restore_after_the_window_is_refused_and_files_nothing(self, world) -> None:
        """GIVEN p-gone binned 31 days ago WHEN legal restores it THEN it is refused naming
        the window's end, and no approval request is filed."""
        move_to_bin(world, LEGAL, [_pk(world, "p-gone")], "到期")
        world.clock = lambda: NOW + 31 * DAY
        with pytest.raises(BinWindowElapsed, match="window ended at 2027-02-14T16:00:00"):
            restore_from_bin(world, LEGAL, "p-gone", "误删")
        assert _one(world, "SELECT count(*) FROM approval_requests") == 0

    def test_a_held_conversation_is_neither_binned_nor_purged(self, world) -> None:
        """GIVEN a legal hold on p-held WHEN it is binned or purged THEN both are refused
        naming the hold, and nothing changed."""
        create_hold(world, LEGAL, "h1", "诉讼", conversations=["p-held"])
        pk = _pk(world, "p-held")
        with pytest.raises(LegalHoldActive, match="webchat:p-held is under legal hold 1"):
            move_to_bin(world, SYSTEM, [pk, _pk(world, "p-gone")], "到期")
        with pytest.raises(LegalHoldActive):
            purge(world, SYSTEM, [pk], reason="到期")
        assert _one(world, "SELECT count(*) FROM recycle_bin") == 0
        assert _one(world, "SELECT count(*) FROM deletion_certificates") == 0
        assert _one(world, f"SELECT count(*) FROM messages WHERE conversation_id = {pk}") == 1


def _ciphertexts(ctx: Context, pk: int) -> list[tuple[bytes, str]]:
    with ctx.archive.reader() as connection:
        rows = connection.exec_driver_sql(
            "SELECT m.ciphertext, m.external_id FROM messages m "
            f"WHERE m.conversation_id = {pk} AND m.ciphertext IS NOT NULL"
        ).all()
    return [(bytes(blob), f"webchat:{message}") for blob, message in rows]


class TestPurge:
    def test_purge_shreds_keys_and_removes_every_row(self, world) -> None:
        """GIVEN p-gone in the bin, its ciphertexts copied WHEN the job purges it THEN no
        message, vault entry, index hit or live key of it is left, the row is a tombstone,
        and no key the system still holds decrypts the copies."""
        pk = _pk(world, "p-gone")
        copies = _ciphertexts(world, pk)
        assert len(copies) == 3
        assert _one(world, f"SELECT count(*) FROM pii_vault WHERE conversation_id = {pk}")
        before = _total(world)
        move_to_bin(world, SYSTEM, [pk], "到期")
        world.clock = lambda: NOW + 31 * DAY
        done = purge(world, SYSTEM, [pk], reason="回收站到期")
        assert done["messages"] == 3 and done["conversations"] == 1
        assert _total(world) == before - 3
        for table in (
            "messages",
            "pii_vault",
            "message_risks",
            "conversation_agents",
            "conversation_class",
            "recycle_bin",
        ):
            assert _one(world, f"SELECT count(*) FROM {table} WHERE conversation_id = {pk}") == 0
        row = f"SELECT state, customer_id, message_count FROM conversations WHERE id = {pk}"
        with world.archive.reader() as connection:
            assert tuple(connection.exec_driver_sql(row).one()) == ("purged", None, 0)
        keys = "SELECT count(*) FROM data_keys WHERE owner_ref = 'webchat:p-gone'"
        assert _one(world, keys) >= 1
        assert _one(
            world, keys + f" AND wrapped IS NULL AND destroyed_at = {int((NOW + 31 * DAY) * 1000)}"
        ) == _one(world, keys)
        self._unreadable(world, copies)

    @staticmethod
    def _unreadable(ctx: Context, copies: list[tuple[bytes, str]]) -> None:
        ctx.load_keys()
        with ctx.archive.reader() as connection:
            live = [
                row[0]
                for row in connection.exec_driver_sql(
                    "SELECT key_id FROM data_keys WHERE wrapped IS NOT NULL"
                )
            ]
            store = ctx.keys(connection)
            with pytest.raises(KeyDestroyed):
                store.by_id([peek(copies[0][0]).key_id])
            held = store.by_id(live)
        assert held
        for blob, aad in copies:
            needed = peek(blob).key_id
            for key in held.values():
                disguised = DataKey(needed, key.suite, key.material)  # as if it were the key
                with pytest.raises(CryptoError):
                    decrypt(blob, disguised, aad.encode())

    def test_by_hand_legal_purges_with_a_second_legal_users_approval(self, world) -> None:
        """GIVEN an active conversation WHEN legal purges it by hand THEN it needs legal2's
        approval, and the certificate names that approval and the search totals drop."""
        before = _total(world)
        request, done = _approved(
            _Call(world, purge, LEGAL, [_pk(world, "p-gone")], reason="用户撤回同意")
        )
        assert _total(world) == before - 3
        listed = list_certificates(world, LEGAL)
        assert [(c["id"], c["valid"], c["messages"]) for c in listed] == [(done["id"], True, 3)]
        with world.archive.reader() as connection:
            document = connection.exec_driver_sql(
                "SELECT document FROM deletion_certificates"
            ).scalar_one()
            audited = connection.exec_driver_sql(
                "SELECT details, approval_id FROM audit_events WHERE action = 'conversation.purged'"
            ).one()
        body = orjson.loads(document)
        assert body["approvals"] == [{"operation": "conversations.bulk_delete", "id": request}]
        assert body["counts"]["messages"] == 3 and body["counts"]["vault_entries"] >= 1
        assert body["conversations"][0]["conversation"] == "webchat:p-gone"
        assert sum(b - a for a, b in body["ledger"]["purged_leaves"]) == 3
        assert body["data_keys"] and body["holds"] == {"checked": [], "covering": []}
        assert orjson.loads(audited[0])["digest"] == done["digest"] and audited[1] == request


class TestCertificates:
    def test_the_certificate_verifies_and_a_changed_byte_fails(self, world, tmp_path) -> None:
        """GIVEN a purge's certificate WHEN it is written out and verified THEN it verifies;
        with one byte changed, in the stored document or the file, it does not."""
        from chatkeeper.ledger import parse_verifier_key
        from chatkeeper.services.keyring import VERIFIER_KEY_FILE, key_folder

        done = purge(world, SYSTEM, [_pk(world, "p-gone")], reason="到期")
        verifier = parse_verifier_key(
            (key_folder(world.settings) / VERIFIER_KEY_FILE).read_text().strip()
        )
        written = export_certificate(world, LEGAL, done["id"], tmp_path / "cert")
        assert written["valid"] is True
        html = (tmp_path / "cert" / "cert.html").read_text(encoding="utf-8")
        assert "webchat:p-gone" in html and done["digest"] in html
        path = tmp_path / "cert" / "cert.json"
        assert verify_certificate_file(path, verifier)["counts"]["messages"] == 3
        path.write_text(path.read_text().replace('"messages": 3', '"messages": 2', 1))
        with pytest.raises(CertificateInvalid):
            verify_certificate_file(path, verifier)
        with world.archive.reader() as connection:
            document, signature = connection.exec_driver_sql(
                "SELECT document, signature FROM deletion_certificates"
            ).one()
        raw = bytearray(document.encode())
        verify_certificate(bytes(raw), signature, verifier)
        raw[raw.index(b"p-gone")] ^= 0x01
        with pytest.raises(CertificateInvalid, match="does not verify"):
            verify_certificate(bytes(raw), signature, verifier)


class TestLedgerAfterPurge:
    def test_verify_counts_purged_messages_as_purged(self, world) -> None:
        """GIVEN p-gone purged WHEN the ledger is verified THEN it is intact and its three
        messages are counted as purged."""
        purge(world, SYSTEM, [_pk(world, "p-gone")], reason="到期")
        report = verify_ledger(world, SYSTEM)
        assert report.intact, report.findings
        assert report.purged == 3

    def test_a_message_deleted_without_a_certificate_is_found(self, world) -> None:
        """GIVEN a purge, then a message of p-keep deleted by hand and its leaf listed in
        purged_leaves under the real certificate WHEN the ledger is verified THEN the message
        is reported missing and the listing unproven."""
        done = purge(world, SYSTEM, [_pk(world, "p-gone")], reason="到期")
        index = _one(world, "SELECT ledger_index FROM messages WHERE external_id = 'p-keep-1'")
        with world.archive.writer() as writer:
            victim = "(SELECT id FROM messages WHERE external_id = 'p-keep-1')"
            for table in ("pii_vault", "message_risks"):
                writer.connection.exec_driver_sql(
                    f"DELETE FROM {table} WHERE message_id = {victim}"
                )
            writer.connection.exec_driver_sql("DELETE FROM messages WHERE external_id = 'p-keep-1'")
        report = verify_ledger(world, SYSTEM)
        assert [(f.kind, f.target) for f in report.findings] == [
            ("message_missing", f"leaf {index}")
        ]
        with world.archive.writer() as writer:
            writer.connection.exec_driver_sql(
                "INSERT INTO purged_leaves (log_id, ledger_index, certificate_id) "
                f"VALUES (1, {index}, {done['id']})"
            )
        kinds = sorted(f.kind for f in verify_ledger(world, SYSTEM).findings)
        assert kinds == ["message_missing", "purge_unproven"]
