"""debtor ledger: every posting names its fee part (debtor's fees and interest vs principal);
a write-off names the component it takes

Before, a payment, write-off, cancellation or reversal was one amount whose split between the
library's principal and debtor's fees was worked out by replaying the claim's postings, and a
reversal gave everything back to the principal (so the library could be told of more than its
fee). The split is now stored with each posting (``fee_part_ore``), so components are plain
sums and a reversal restores exactly what the reversed posting took.

Existing rows are filled by the replay that was the rule until now (payments take fees and
interest first; write-offs and cancellations the principal first; a reversal gave back to the
principal), so no balance or component changes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 23:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_PRINCIPAL = {"charge", "write_up", "write_down"}
_FEES = {"reminder_fee", "interest"}


def _replay(rows: list[tuple[int, str, int]]) -> list[tuple[int, int]]:
    """(posting id, fee part) for one claim's postings in booking order, by the old rule."""
    principal = fees = 0
    out: list[tuple[int, int]] = []
    for pid, kind, amount in rows:
        part = 0
        if kind in _PRINCIPAL:
            principal += amount
        elif kind in _FEES:
            fees += amount
            part = amount
        elif kind == "coverage":
            part = -min(max(fees, 0), -amount)
            fees += part
            principal += amount - part
        elif kind in ("write_off", "cancellation"):
            taken = -amount
            from_principal = min(max(principal, 0), taken)
            part = -(taken - from_principal)
            principal -= from_principal
            fees += part
        else:  # reversal: gave back to the principal
            principal += amount
        out.append((pid, part))
    return out


def upgrade() -> None:
    # a plain ADD COLUMN with a default (SQLite cannot rebuild a table that references itself
    # while foreign keys are on); the default goes again on PostgreSQL below
    op.add_column(
        "debtor_posting",
        sa.Column("fee_part_ore", sa.BigInteger(), nullable=False, server_default="0"),
    )
    conn = op.get_bind()
    posting = sa.table(
        "debtor_posting",
        sa.column("id", sa.BigInteger),
        sa.column("claim_pk", sa.BigInteger),
        sa.column("kind", sa.String),
        sa.column("amount_ore", sa.BigInteger),
        sa.column("fee_part_ore", sa.BigInteger),
    )
    conn.execute(
        posting.update()
        .where(posting.c.kind.in_(sorted(_FEES)))
        .values(fee_part_ore=posting.c.amount_ore)
    )
    # claims with postings that split: replay them, a claim at a time
    split = (
        sa.select(posting.c.claim_pk)
        .where(posting.c.kind.in_(["coverage", "write_off", "cancellation", "reversal"]))
        .distinct()
        .order_by(posting.c.claim_pk)
    )
    update = (
        posting.update()
        .where(posting.c.id == sa.bindparam("pid"))
        .values(fee_part_ore=sa.bindparam("part"))
    )
    for (claim_pk,) in conn.execute(split).all():
        rows = conn.execute(
            sa.select(posting.c.id, posting.c.kind, posting.c.amount_ore)
            .where(posting.c.claim_pk == claim_pk)
            .order_by(posting.c.id)
        ).all()
        parts = _replay([(int(i), str(k), int(a)) for i, k, a in rows])
        conn.execute(update, [{"pid": pid, "part": part} for pid, part in parts])
    if conn.dialect.name != "sqlite":
        op.alter_column("debtor_posting", "fee_part_ore", server_default=None)
    op.add_column("debtor_write_off", sa.Column("component", sa.String(10), nullable=True))


def downgrade() -> None:
    op.drop_column("debtor_write_off", "component")
    op.drop_column("debtor_posting", "fee_part_ore")
