"""Key management: rotating the key-encryption key."""

from __future__ import annotations

import os
from typing import Any

from chatkeeper.crypto import create_key_file
from chatkeeper.domain import Actor
from chatkeeper.errors import ConfigError
from chatkeeper.services.authz import authorized
from chatkeeper.services.context import Context
from chatkeeper.services.keyring import NEXT_SUFFIX, KekRing, load_kek
from chatkeeper.store.keys import KeyStore


def rotate_kek(ctx: Context, actor: Actor, approval: int | None = None) -> dict[str, Any]:
    """Replace the key-file KEK: rewrap every data key, then destroy the old KEK's file.

    Data is never re-encrypted: only the small wrapped keys change. The steps are ordered so
    that an interruption anywhere leaves a data folder that opens (see ``services.keyring``).
    A key operation: it needs an approval.
    """
    with authorized(ctx, actor, "keys.rotate", {}, approval) as permit:
        return _rotate(ctx, actor, permit.approval_id)


def _rotate(ctx: Context, actor: Actor, approval_id: int | None) -> dict[str, Any]:
    settings = ctx.settings
    if settings.privacy.kek != "file":
        raise ConfigError(
            "keys rotate replaces a key-file KEK; an environment or KMS KEK is rotated where "
            "it is kept (then run keys rotate with both loaded)",
            key="privacy.kek",
        )
    ctx.load_keys()
    ring = ctx.archive.kek
    assert isinstance(ring, KekRing)
    path = settings.privacy.key_path(settings.data_dir)
    staged = path.with_name(path.name + NEXT_SUFFIX)
    if staged.exists():
        staged.unlink()  # a rotation that stopped before committing: start it again
    new = create_key_file(staged)
    with ctx.archive.writer() as writer:
        count = KeyStore(writer.connection, ring, settings.privacy.suite).rewrap_all(new)
        writer.audit(actor, "keys.rotated", target_kind="kek", target_id=new.kek_id,
            details={"previous": ring.kek_id, "rewrapped": count}, approval_id=approval_id,
        )  # fmt: skip
    previous = ring.kek_id
    os.replace(staged, path)  # the new KEK becomes the current one
    ctx.archive.use_keys(load_kek(settings), settings.privacy.suite)
    return {"kek_id": new.kek_id, "previous_kek_id": previous, "rewrapped": count}
