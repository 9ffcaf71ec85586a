"""The hand-over run (overdragelse til inddrivelse): every eligible claim goes to PSRM once.

``run_handover(conn, clock, on, municipality, facts)`` asks debtor for the facts of its open
claims (``facts``: debtor's ``collection_facts``, wired by ``bootstrap``), evaluates them
(``model.eligibility``) and, in the caller's transaction, for each eligible claim:

* inserts its ``collection_claim`` row: the unique key (municipality, claim id) with ON CONFLICT DO
  NOTHING makes the hand-over happen once, whatever runs repeat or race (on PostgreSQL a second
  run waits for the first one's rows and then skips them); a claim a person released after PSRM
  returned it is taken back the same way (``UPDATE ... WHERE state = 'released'``);
* stores its OPRETFORDRING action (``collection_action``) and queues it for the PSRM sender
  (``PsrmActionQueued`` in the outbox, ordered per claim);
* tells debtor (``ClaimHandedOver``): reminders and interest stop, the library learns that the
  citizen now pays Gældsstyrelsen.

The run is recorded with its counts and the claims that wait for a person.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Connection

from fbs_debitor.collection.model.actions import State, fordring_of, to_body
from fbs_debitor.collection.model.eligibility import Evaluation, Reason, evaluate
from fbs_debitor.collection.model.psrm import Aktion, FordringAktion
from fbs_debitor.collection.store import claims as store
from fbs_debitor.contracts.collection import (
    ClaimHandedOver,
    CollectionFacts,
    CollectionTerms,
    PsrmActionQueued,
)
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import Clock
from fbs_debitor.core.errors import ConflictError, NotFoundError

SOURCE = "collection"
ACTION_NAMESPACE = uuid.UUID("9b7f3c1e-3f0a-4d8e-9a55-6c1f2d0b7e41")

FactsSource = Callable[[Connection, str, date], tuple[CollectionTerms, Sequence[CollectionFacts]]]
"""Debtor's facts of a municipality's open claims on a date (``debtor.views.collection_facts``)."""


def aktion_id(municipality: str, claim_id: str, action_sequence: int) -> str:
    """The id of a claim's n-th action: the same action always gets the same id, so a repeated
    attempt is one action in PSRM."""
    return str(uuid.uuid5(ACTION_NAMESPACE, f"{municipality}:{claim_id}:{action_sequence}"))


@dataclass
class HandoverResult:
    """What a hand-over run did (the CLI's ``--json``)."""

    on: date
    municipality: str
    evaluated: int = 0
    eligible: int = 0
    handed_over: int = 0
    not_eligible: Counter[str] = field(default_factory=Counter)
    waiting: list[tuple[str, Reason]] = field(default_factory=list)
    claim_ids: list[str] = field(default_factory=list)
    """The claims this run handed over."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.on.isoformat(),
            "municipality": self.municipality,
            "evaluated": self.evaluated,
            "eligible": self.eligible,
            "handed_over": self.handed_over,
            "not_eligible": dict(sorted(self.not_eligible.items())),
            "waiting_for_a_person": len(self.waiting),
        }


def evaluate_claims(
    conn: Connection, municipality: str, on: date, facts: FactsSource
) -> Evaluation:
    """The eligibility of every open claim of ``municipality`` on ``on`` (a dry run)."""
    terms, rows = facts(conn, municipality, on)
    return evaluate(rows, terms, on, store.records(conn, municipality))


def run_handover(
    conn: Connection, clock: Clock, on: date, municipality: str, facts: FactsSource
) -> HandoverResult:
    """Hand every eligible claim of ``municipality`` over as of ``on``, in the caller's
    transaction."""
    evaluation = evaluate_claims(conn, municipality, on, facts)
    now = clock.now()
    by_id = {f.claim_id: f for f in evaluation.eligible}
    new_rows = []
    for f in evaluation.eligible:
        new_rows.append(
            {
                "municipality": municipality,
                "claim_id": f.claim_id,
                "state": State.SUBMITTED.value,
                "psrm_claim_type": f.psrm_claim_type.strip(),
                "psrm_claim_id": None,
                "handed_over_on": on,
                "handed_over_ore": f.balance_ore,
                "sequence": 1,
                "action_sequence": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    releasable = _released(conn, by_id)
    released = [f.claim_id for f in evaluation.eligible if f.claim_id in releasable]
    fresh = [r for r in new_rows if r["claim_id"] not in releasable]
    sequences = {c: (1, 1) for c in store.insert_new(conn, fresh)}
    sequences.update(
        store.take_released(
            conn,
            municipality,
            released,
            on=on,
            amounts={c: by_id[c].balance_ore for c in released},
            types={c: by_id[c].psrm_claim_type.strip() for c in released},
            now=now,
        )
    )
    action_rows: list[dict[str, Any]] = []
    to_sender: list[Outgoing] = []
    to_debtor: list[Outgoing] = []
    handed = [f for f in evaluation.eligible if f.claim_id in sequences]
    for f in handed:
        sequence, action_sequence = sequences[f.claim_id]
        action = FordringAktion(
            aktion_id=aktion_id(municipality, f.claim_id, action_sequence),
            municipality=municipality,
            reference=f.claim_id,
            aktion=Aktion.OPRETFORDRING,
            virkningsdato=on,
            fordring=fordring_of(f),
        )
        action_rows.append(action_row(action, f.balance_ore, "handover", now))
        to_sender.append(
            Outgoing(
                PsrmActionQueued(
                    municipality=municipality,
                    occurred_at=now,
                    claim_id=f.claim_id,
                    aktion_id=action.aktion_id,
                ),
                sequence=action_sequence,
            )
        )
        to_debtor.append(
            Outgoing(
                ClaimHandedOver(
                    municipality=municipality,
                    occurred_at=now,
                    claim_id=f.claim_id,
                    handed_over_on=on,
                    psrm_claim_type=f.psrm_claim_type.strip(),
                    principal_ore=f.principal_ore,
                    fees_ore=f.fees_ore,
                    interest_ore=f.interest_ore,
                ),
                sequence=sequence,
            )
        )
    store.insert_actions(conn, action_rows)
    if to_sender:  # each kind together: the worker applies a run of one kind as one batch
        send_many(conn, to_sender + to_debtor, source=SOURCE)
    result = HandoverResult(
        on=on,
        municipality=municipality,
        evaluated=evaluation.evaluated,
        eligible=len(evaluation.eligible),
        handed_over=len(handed),
        not_eligible=evaluation.not_eligible,
        waiting=evaluation.waiting,
        claim_ids=[f.claim_id for f in handed],
    )
    store.record_run(
        conn,
        {
            "municipality": municipality,
            "run_on": on,
            "evaluated": result.evaluated,
            "eligible": result.eligible,
            "handed_over": result.handed_over,
            "not_eligible": json.dumps(dict(result.not_eligible), sort_keys=True),
            "waiting": json.dumps([[c, r.value] for c, r in result.waiting]),
            "at": now,
        },
    )
    return result


def _released(conn: Connection, eligible: dict[str, CollectionFacts]) -> set[str]:
    if not eligible:
        return set()
    municipality = next(iter(eligible.values())).municipality
    return {
        c.claim_id
        for c in store.claims_in(conn, municipality, [State.RELEASED])
        if c.claim_id in eligible
    }


def action_row(action: FordringAktion, amount_ore: int, cause: str, now: Any) -> dict[str, Any]:
    """The ``collection_action`` row of a queued action; ``amount_ore`` is its signed effect on
    what PSRM holds."""
    return {
        "municipality": action.municipality,
        "claim_id": action.reference,
        "aktion_id": action.aktion_id,
        "aktion": action.aktion.value,
        "aarsagskode": action.aarsagskode,
        "amount_ore": amount_ore,
        "virkningsdato": action.virkningsdato,
        "body": to_body(action),
        "status": "queued",
        "cause": cause,
        "attempts": 0,
        "sent_at": None,
        "decided_at": None,
        "answer_code": None,
        "answer_text": None,
        "created_at": now,
    }


def release(
    conn: Connection, clock: Clock, municipality: str, claim_id: str, *, reason: str
) -> None:
    """A person fixed a claim PSRM returned: the next hand-over run may submit it again (if it is
    still eligible then). Only a returned claim can be released."""
    held = store.held_claim(conn, municipality, claim_id, lock=True)
    if held is None:
        raise NotFoundError(f"Fordringen {claim_id} er ikke overdraget / claim {claim_id} unknown")
    if held.state is not State.RETURNED:
        raise ConflictError(
            f"Fordringen {claim_id} er {held.state.value}, ikke returneret / claim {claim_id} is "
            f"{held.state.value}, not returned",
            code="not-returned",
        )
    store.set_claim(
        conn,
        held.id,
        clock.now(),
        state=State.RELEASED.value,
        return_reason=f"{held.return_reason or ''} | frigivet: {reason}".strip(" |"),
    )
