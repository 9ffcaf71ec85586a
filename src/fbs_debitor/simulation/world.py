"""The simulated municipality: patrons, their fees, and how each citizen pays. Pure-ish helpers
and the random choices; the engine (``engine.py``) drives the system with them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date

from fbs_debitor.core.money import Money

CVR_WEIGHTS = (2, 7, 6, 5, 4, 3, 2, 1)


def random_cpr(rng: random.Random, minor: bool = False) -> str:
    year = rng.randint(10, 19) if minor else rng.randint(40, 99)
    seventh = rng.choice("4") if minor else rng.choice("0123")  # 4: 20xx for yy < 37
    return f"{rng.randint(1, 28):02d}{rng.randint(1, 12):02d}{year:02d}{seventh}{rng.randint(0, 999):03d}"


def random_cvr(rng: random.Random) -> str:
    """A CVR number that passes the modulus-11 check."""
    while True:
        digits = [rng.randint(1, 9)] + [rng.randint(0, 9) for _ in range(6)]
        partial = sum(d * w for d, w in zip(digits, CVR_WEIGHTS, strict=False))
        check = (11 - partial % 11) % 11
        if check < 10:
            return "".join(map(str, [*digits, check]))


def overdue_fee(rng: random.Random) -> Money:
    """The usual tariff: 20 kr (1-7 days late), 90-120 kr (8-30), 230 kr (over 30)."""
    r = rng.random()
    if r < 0.6:
        return Money(2000)
    if r < 0.9:
        return Money(rng.choice([9000, 10000, 12000]))
    return Money(23000)


def replacement_charge(rng: random.Random) -> Money:
    return Money(rng.choice([14950, 19900, 24950, 34950, 44900]))


class Behaviour:
    ON_TIME = "on_time"
    AFTER_REMINDER = "after_reminder"
    PARTLY = "partly"
    TWICE = "twice"
    NEVER = "never"
    AT_REGISTER = "at_register"


BEHAVIOURS = (
    (Behaviour.ON_TIME, 0.45),
    (Behaviour.AT_REGISTER, 0.08),
    (Behaviour.AFTER_REMINDER, 0.2),
    (Behaviour.PARTLY, 0.08),
    (Behaviour.TWICE, 0.04),
    (Behaviour.NEVER, 0.15),
)


def behaviour(rng: random.Random) -> str:
    r = rng.random()
    for name, p in BEHAVIOURS:
        if r < p:
            return name
        r -= p
    return Behaviour.NEVER


@dataclass
class Patron:
    id: int
    cpr: str | None
    guardian_cpr: str | None
    cvr: str | None


@dataclass
class Scheduled:
    """A payment the simulation will make on ``on``: by bank with the FIK ``payment_id`` (or by
    the till with the debtor's number), ``amount`` None: what is due that day."""

    on: date
    channel: str
    payment_id: str
    debtor: str
    amount: int | None
    fraction: float = 1.0


@dataclass
class Tally:
    claims_created: int = 0
    old_fees_paid_in_library: int = 0
    cancelled_replacements: int = 0
    debtor_changes: int = 0
    bank_files: int = 0
    register_payments: int = 0
    unmatched_sent: int = 0
    behaviours: dict[str, int] = field(default_factory=dict)
