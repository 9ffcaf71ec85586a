"""Checks that every effect of a message happened once (not that the inbox kept one row per
message: its primary key already forbids a second)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from fbs_debitor.debtor.store.tables import payments, postings


def effects_applied_twice(conn: Connection) -> list[str]:
    """Every double effect, one sentence each ([] = each message left its effect once).

    * a claim has one charge posting (the registration applied once);
    * the coverage postings add up to what the payments say they covered (each payment
      allocated once: a redelivered payment would post its coverage a second time).
    """
    problems: list[str] = []
    charged_twice = conn.execute(
        select(postings.c.claim_pk)
        .where(postings.c.kind == "charge")
        .group_by(postings.c.claim_pk)
        .having(func.count() > 1)
    ).scalars()
    problems += [f"claim {pk} charged more than once" for pk in charged_twice]
    covered_by_postings = -int(
        conn.execute(
            select(func.coalesce(func.sum(postings.c.amount_ore), 0)).where(
                postings.c.kind == "coverage", postings.c.reverses.is_(None)
            )
        ).scalar_one()
    )
    covered_by_payments = int(
        conn.execute(select(func.coalesce(func.sum(payments.c.covered_ore), 0))).scalar_one()
    )
    if covered_by_postings != covered_by_payments:
        problems.append(
            f"coverage postings {covered_by_postings} øre, payments covered {covered_by_payments} øre"
        )
    return problems
