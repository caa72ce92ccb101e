"""The demo: a fresh data folder filled with a realistic synthetic data set."""

from __future__ import annotations

import shutil
from pathlib import Path

from chatkeeper.config import Settings
from chatkeeper.domain import Actor
from chatkeeper.errors import StoreError
from chatkeeper.governance.passwords import new_password
from chatkeeper.services.accounts import add_user, create_first_admin
from chatkeeper.services.context import Context, open_context
from chatkeeper.services.ingest import IngestReport, Progress, ingest_files

MARKER = ".chatkeeper-demo"
DATA_FILE = "demo-conversations.jsonl"


def write_dataset(path: Path, messages: int, seed: int) -> int:
    """Write a synthetic data set in the canonical JSONL format; returns the count."""
    from chatkeeper.demo import write_jsonl  # the generator's tables load only when asked for

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return write_jsonl(path, messages, seed=seed)
    except OSError as exc:
        raise StoreError(f"{path}: cannot write the data set ({exc.strerror})") from exc


def example_conversation(ctx: Context, actor: Actor) -> str | None:
    """A complaint conversation to show first, if the archive has one."""
    with ctx.archive.reader() as connection:
        return ctx.archive.sample_conversation(connection, "complaint")


def build_demo(
    settings: Settings,
    actor: Actor,
    messages: int,
    seed: int,
    progress: Progress | None = None,
) -> tuple[Context, IngestReport]:
    """Make a fresh demo data folder, generate the data set into it, and ingest it.

    A folder that exists is replaced only if an earlier demo made it; any other non-empty
    folder is refused, so a real archive can never be wiped by mistake.
    """
    folder = settings.data_dir
    if folder.exists() and any(folder.iterdir()):
        if not (folder / MARKER).exists():
            raise StoreError(f"{folder} exists and is not a demo folder; choose another --data-dir")
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    (folder / MARKER).write_text("made by chatkeeper demo; safe to delete\n", encoding="utf-8")
    data_file = folder / DATA_FILE
    write_dataset(data_file, messages, seed)
    ctx = open_context(settings, create=True)
    report = ingest_files(ctx, actor, [data_file], "jsonl", progress=progress)
    return ctx, report


DEMO_USERS = (
    ("legal", "legal", ()),
    ("supervisor", "supervisor", ("投诉处理部",)),
    ("auditor", "auditor", ()),
)


def demo_users(ctx: Context, actor: Actor) -> tuple[str, list[str]]:
    """Sign-ins for trying the demo: the first admin and a legal, a supervisor (投诉处理部)
    and an auditor user, all with one generated password (written to the demo folder too)."""
    password = new_password()
    create_first_admin(ctx, password)
    names = ["admin"]
    for name, role, departments in DEMO_USERS:
        add_user(ctx, actor, name, role, password, departments)
        names.append(name)
    path = ctx.data_dir / "demo-users.txt"
    path.write_text("".join(f"{name} {password}\n" for name in names), encoding="utf-8")
    path.chmod(0o600)
    return password, names
