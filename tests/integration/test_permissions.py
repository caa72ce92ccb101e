"""The permission matrix of docs/permissions.md, walked against the application services.

GIVEN an archive with a user of every role WHEN each service operation is called as each role
THEN it is refused with ``PermissionDenied`` exactly where the document's table says ``—``, and
runs (or files an approval request) everywhere else. The table is read from the document, not
from the code, so the document, the code and the behaviour cannot drift apart.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from chatkeeper.domain import Actor
from chatkeeper.governance import PermissionDenied
from chatkeeper.governance.permissions import PERMISSIONS, markdown_table
from chatkeeper.services import Context
from chatkeeper.services.access import list_grants, request_access, revoke_grant
from chatkeeper.services.accounts import add_user, disable_user, list_users, set_role
from chatkeeper.services.approvals import list_requests
from chatkeeper.services.audit import AuditFilter, export_events, list_events
from chatkeeper.services.classify import classify_conversations
from chatkeeper.services.conversations import show_conversation
from chatkeeper.services.erasure import erase_person
from chatkeeper.services.evidence import export_evidence
from chatkeeper.services.holds import create_hold, list_holds, release_hold
from chatkeeper.services.ingest import ingest_files
from chatkeeper.services.keys import rotate_kek
from chatkeeper.services.ledger import anchor_checkpoints, verify_ledger
from chatkeeper.services.lifecycle import run_lifecycle
from chatkeeper.services.privacy import find_by_value, take_offline, unmask_message
from chatkeeper.services.purge import list_certificates, purge
from chatkeeper.services.recycle import list_bin, move_to_bin, restore_from_bin
from chatkeeper.services.retention import change_policy, deadlines, show_policy
from chatkeeper.services.review import list_reviews, submit_review
from chatkeeper.services.search import SearchRequest, search
from chatkeeper.services.stats import archive_stats
from tests.factories import record, write_jsonl

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
SYSTEM = Actor("setup", frozenset({"system"}))
PASSWORD = "correct horse battery"
ROLES = ("agent", "supervisor", "legal", "auditor", "security_admin", "admin")
POLICY = '[policy]\n[[policy.rules]]\nname = "all"\nservice_type = "*"\nkeep = "5 years"\n'


def doc_table() -> dict[str, dict[str, str]]:
    """The matrix as docs/permissions.md prints it: operation -> role -> cell."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split("<!-- permissions:begin -->")[1].split("<!-- permissions:end -->")[0]
    lines = [line for line in body.strip().splitlines() if line.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    table = {}
    for line in lines[2:]:
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0].strip("`")] = dict(zip(header[1:], cells[1:], strict=True))
    return table


def test_the_document_prints_the_matrix_the_code_holds() -> None:
    """GIVEN docs/permissions.md THEN its table is the code's matrix, row for row."""
    text = DOC.read_text(encoding="utf-8")
    assert markdown_table() in text
    assert set(doc_table()) == set(PERMISSIONS)


def _users(ctx: Context) -> dict[str, Actor]:
    for role in ROLES:
        departments = ["售后服务部"] if role == "supervisor" else []
        agents = ["a-sales"] if role == "agent" else []
        add_user(ctx, SYSTEM, f"{role}-1", role, PASSWORD, departments, agents)
    add_user(ctx, SYSTEM, "victim", "auditor", PASSWORD)
    return {role: Actor(f"{role}-1", frozenset({role})) for role in ROLES}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Context, dict[str, Actor], Path]:
    from chatkeeper.config import load_settings
    from chatkeeper.services import open_context

    folder = tmp_path_factory.mktemp("matrix")
    ctx = open_context(load_settings(data_dir=folder / "data"), create=True)
    sales = {"department": "售后服务部", "agent_id": "a-sales", "conversation_id": "c-sales"}
    records = [
        record(message_id="m1", text="手机13812345678，请退款", **sales),
        record(message_id="m2", sender_role="agent", sender_id="a-sales", text="好的，退款已提交",
               **sales),
        *[record(message_id=f"off-{role}", text="地址是北京市朝阳区", **sales) for role in ROLES],
        record(message_id="x1", department="投诉处理部", conversation_id="c-other",
               agent_id="a-other", text="我要投诉，退款太慢"),
    ]  # fmt: skip
    ingest_files(ctx, SYSTEM, [write_jsonl(folder / "seed.jsonl", records)], "jsonl")
    yield ctx, _users(ctx), folder
    ctx.close()


def _ingest(c: Context, a: Actor, t: Path) -> object:
    path = write_jsonl(t / f"in-{a.name}.jsonl", [record(message_id=f"new-{a.name}")])
    return ingest_files(c, a, [path], "jsonl")


Call = Callable[[Context, Actor, Path], object]
CALLS: dict[str, Call] = {
    "conversations.search": lambda c, a, t: search(c, a, SearchRequest("退款")),
    "conversation.view": lambda c, a, t: show_conversation(c, a, "c-sales"),
    "stats.view": lambda c, a, t: archive_stats(c, a),
    "pii.search": lambda c, a, t: find_by_value(c, a, "13812345678"),
    "message.unmask": lambda c, a, t: unmask_message(c, a, "m1", "核实身份"),
    "message.take_offline": lambda c, a, t: take_offline(c, a, f"off-{a.name[:-2]}", "用户要求"),
    "evidence.export": lambda c, a, t: export_evidence(c, a, "c-sales", t / f"{a.name}.zip"),
    "ingest.run": _ingest,
    "classify.run": lambda c, a, t: classify_conversations(c, a),
    "keys.rotate": lambda c, a, t: rotate_kek(c, a),
    "ledger.verify": lambda c, a, t: verify_ledger(c, a),
    "ledger.anchor": lambda c, a, t: anchor_checkpoints(c, a),
    "audit.list": lambda c, a, t: list_events(c, a, AuditFilter()),
    "audit.export": lambda c, a, t: export_events(c, a, AuditFilter(), t / "a.json", "json"),
    "user.add": lambda c, a, t: add_user(c, a, f"new-{a.name}", "auditor", PASSWORD),
    "user.list": lambda c, a, t: list_users(c, a),
    "user.disable": lambda c, a, t: disable_user(c, a, "victim"),
    "user.set_role": lambda c, a, t: set_role(c, a, "victim", "legal"),
    "approvals.list": lambda c, a, t: list_requests(c, a),
    "access.request": lambda c, a, t: request_access(c, a, "投诉处理部", "跟进投诉"),
    "access.list": lambda c, a, t: list_grants(c, a),
    "access.revoke": lambda c, a, t: revoke_grant(c, a, 999_999),
    "review.list": lambda c, a, t: list_reviews(c, a),
    "review.submit": lambda c, a, t: submit_review(c, a, 999_999, "account", "说明"),
    "retention.show": lambda c, a, t: show_policy(c, a),
    "retention.change": lambda c, a, t: change_policy(c, a, POLICY, "统一保存五年"),
    "retention.compute": lambda c, a, t: deadlines(c, a),
    "hold.create": lambda c, a, t: create_hold(c, a, f"h-{a.name}", "诉讼", customers=["cust-1"]),
    "hold.list": lambda c, a, t: list_holds(c, a),
    "hold.release": lambda c, a, t: release_hold(c, a, 999_999, "结案"),
    "bin.list": lambda c, a, t: list_bin(c, a),
    "bin.move": lambda c, a, t: move_to_bin(c, a, [999_999], "到期"),
    "bin.restore": lambda c, a, t: restore_from_bin(c, a, "c-other", "误删"),
    "conversations.bulk_delete": lambda c, a, t: purge(c, a, [999_999], reason="到期"),
    "lifecycle.certificates": lambda c, a, t: list_certificates(c, a),
    "lifecycle.run": lambda c, a, t: run_lifecycle(c, a, dry_run=True),
    "person.erase": lambda c, a, t: erase_person(c, a, "cust-1", "本人要求"),
}


def test_every_operation_of_the_matrix_has_a_call() -> None:
    assert set(CALLS) == set(PERMISSIONS)


def _outcome(call: Call, ctx: Context, actor: Actor, folder: Path) -> str:
    try:
        call(ctx, actor, folder)
    except PermissionDenied as exc:
        if exc.details.get("scope"):  # out of the role's reach, not refused by role
            return f"out of scope: {exc.message}"
        return "refused"
    except Exception:  # approval needed, not found, no anchor configured: past the check
        return "allowed"
    return "allowed"


@pytest.mark.parametrize("operation", sorted(PERMISSIONS))
def test_each_role_is_allowed_or_refused_as_documented(world, operation: str) -> None:
    ctx, actors, folder = world
    expected = doc_table()[operation]
    got = {role: _outcome(CALLS[operation], ctx, actors[role], folder) for role in ROLES}
    want = {role: "refused" if expected[role] == "—" else "allowed" for role in ROLES}
    assert got == want


def test_a_failed_call_names_the_operation_and_who_may(world) -> None:
    ctx, actors, _ = world
    with pytest.raises(PermissionDenied, match=r"admin-1 \(admin\) may not run conversations"
                       r"\.search; roles that may: agent, supervisor, legal, auditor"):  # fmt: skip
        search(ctx, actors["admin"], SearchRequest("退款"))


def test_the_matrix_cells_are_known_words() -> None:
    for row in doc_table().values():
        assert set(row.values()) <= {"—", "own", "departments", "all"}, row
    assert re.search(r"<!-- permissions:begin -->", DOC.read_text(encoding="utf-8"))
