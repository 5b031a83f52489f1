"""TOTP secrets encrypted at rest: wider columns, and the secrets stored before encrypted

Revision ID: 0010_totp_encrypted
Revises: 0009_invitation_revoked
Create Date: 2026-12-07 00:00:00

``staff_users.totp_secret`` and ``staff_sessions.pending_totp_secret`` grow from
64 to 255 characters (an encrypted value is about 95), and every secret
stored as it is gets encrypted with the newest key (``bot.records.totp_keys``).
A database with no secret stored needs no key to migrate; one with secrets
stops with a message saying where to put the key, and nothing is changed.

Downgrade decrypts them back (it needs the key that made them) and narrows
the columns again.
"""
from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

from bot.records.errors import RecordsError
from bot.records.totp_keys import (TotpBox, TotpKeyError, TotpKeyMissing, is_plain, is_sealed, load_keys,
                                   missing_key_message)

revision: str = "0010_totp_encrypted"
down_revision: Union[str, None] = "0009_invitation_revoked"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

COLUMNS = (("staff_users", "totp_secret", "id"), ("staff_sessions", "pending_totp_secret", "user_id"))


def _rows(table: str, column: str, owner: str):
    bind = op.get_bind()
    return bind.execute(sa.text(f"SELECT id, {owner} AS owner, {column} AS value FROM {table} "
                                f"WHERE {column} IS NOT NULL")).fetchall()


def _set(table: str, column: str, row_id: int, value) -> None:
    op.get_bind().execute(sa.text(f"UPDATE {table} SET {column} = :value WHERE id = :id"),
                          {"value": value, "id": row_id})


def _box(count: int, doing: str) -> TotpBox:
    try:
        keys = load_keys()
    except TotpKeyError as error:
        raise type(error)(f"{count} second-factor secret(s) must be {doing}, but {error} "
                          "Then run `msp db upgrade` again.") from None
    if not keys:
        raise TotpKeyMissing(f"{count} second-factor secret(s) must be {doing}, and there is {missing_key_message()} "
                             "Then run `msp db upgrade` again.")
    return TotpBox(keys)


def _resize(length: int, previous: int) -> None:
    for table, column, _owner in COLUMNS:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, type_=sa.String(length), existing_type=sa.String(previous),
                               existing_nullable=True)


def upgrade() -> None:
    plain = [(table, column, row) for table, column, owner in COLUMNS for row in _rows(table, column, owner)
             if not is_sealed(row.value)]
    for table, _column, row in plain:
        if table == "staff_users" and not is_plain(row.value):
            raise RecordsError(f"the second-factor secret of account {row.id} is neither a TOTP secret nor "
                               "encrypted; nothing was changed. Clear it (the account then sets up its second "
                               "factor again) and run `msp db upgrade` again.")
    box = _box(len(plain), "encrypted") if plain else None  # before any change: a missing key changes nothing
    _resize(255, 64)
    for table, column, row in plain:
        if table == "staff_sessions" and (row.owner is None or not is_plain(row.value)):
            _set(table, column, row.id, None)  # an enrolment in progress starts again with a new secret
        else:
            _set(table, column, row.id, box.seal(row.value, row.owner))


def downgrade() -> None:
    sealed = [(table, column, row) for table, column, owner in COLUMNS for row in _rows(table, column, owner)
              if is_sealed(row.value)]
    if sealed:
        box = _box(len(sealed), "decrypted for the older schema")
        for table, column, row in sealed:
            _set(table, column, row.id, box.open(row.value, row.owner))
    _resize(64, 255)
