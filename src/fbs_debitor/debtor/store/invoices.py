"""Payment ID sequences: each municipality numbers its invoices' FIK payment IDs from one
counter row, advanced by a whole run at once."""

from __future__ import annotations

from sqlalchemy import Connection, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite

from fbs_debitor.debtor.store.tables import payment_sequences

_SEED_SEQUENCE = {
    dialect.__name__.rsplit(".", 1)[-1]: dialect.insert(payment_sequences).on_conflict_do_nothing(
        index_elements=["municipality"]
    )
    for dialect in (postgresql, sqlite)
}


_BUMP_SEQUENCE = (
    update(payment_sequences)
    .where(payment_sequences.c.municipality == bindparam("kommunekode"))
    .values(last_sequence=payment_sequences.c.last_sequence + bindparam("n"))
    .returning(payment_sequences.c.last_sequence)
)


def allocate_payment_sequences(conn: Connection, municipality: str, n: int) -> int:
    """Reserve ``n`` consecutive payment ID sequence numbers; returns the first (from 1).

    The counter row stays locked until the transaction ends (PostgreSQL), so two transactions
    never get the same numbers; a rolled-back transaction leaves no gap behind."""
    params = {"kommunekode": municipality, "n": n}
    last = conn.execute(_BUMP_SEQUENCE, params).scalar()
    if last is None:
        conn.execute(
            _SEED_SEQUENCE[conn.dialect.name], {"municipality": municipality, "last_sequence": 0}
        )
        last = conn.execute(_BUMP_SEQUENCE, params).scalar_one()
    return int(last) - n + 1
