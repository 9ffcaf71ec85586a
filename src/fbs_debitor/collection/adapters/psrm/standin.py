"""A stand-in for PSRM that answers as PSRM does, with configurable rules: for the tests and the
demo (and, behind the file exchange or the SOAP face, for the other two adapters' tests).

What it does, on the stand-in's clock:

* ``submit`` records each action by ``aktion_id`` (a repeated id is received again and changes
  nothing: nothing is created twice, no receipt is doubled), decides at once and queues a receipt.
  OPRETFORDRING is AFVIST when the claim type is missing ("" or "-") or unknown, the last timely
  payment date has not passed (SRB >= today), the debtor is unknown, the amount is 0 or the
  reference is already an active claim; HOERING for a hearing type (resolved after
  ``hearing_days``: UDFOERT, or AFVIST if ``hearing_outcome`` says so); else UDFOERT with a new
  PSRM claim id. NEDSKRIV / OPSKRIV change the balance (AFVIST: no active claim, no positive
  amount, a write-down beyond the balance, a wrong årsagskode); TILBAGEKALD closes the claim.
* Every call first catches up: for each calendar month that has ended since the last settlement,
  hearings due in it are resolved, then ``settle_share`` of the open claims are settled
  (AFREGNING): a claim is picked by a hash of municipality, reference and month (repeatable), pays
  its balance (or one of ``settle_instalments`` equal parts), ``betalingsdato`` a day inside the
  month, ``afregningsdato`` the last bank day of the month. A claim paid off pays nothing more.
* Receipts and notifications are numbered; their cursor is the number of the last one read.

State lives in memory, or with ``state_path`` in a JSON file read and written under an exclusive
``fcntl`` lock on every call (written to a temporary file and renamed), so that separate CLI
processes see one PSRM. Every call is all-or-nothing.

Reason codes of AFVIST (``Kvittering.aarsag_kode``; the sentence is Danish) are the stand-in's
own mnemonics, see ``standin_rules.REASONS``.
"""

from __future__ import annotations

import fcntl
import json
import os
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fbs_debitor.collection.adapters.psrm import standin_state as js
from fbs_debitor.collection.adapters.psrm.interface import PsrmUnavailable
from fbs_debitor.collection.adapters.psrm.standin_rules import (
    REASONS,
    ClaimState,
    PsrmClaim,
    StandInRules,
    month_first,
    month_last,
    month_of,
    next_month,
    stable_hash,
)
from fbs_debitor.collection.model.psrm import (
    Aktion,
    FordringAktion,
    Kvittering,
    KvitteringStatus,
    NedskrivAarsag,
    Page,
    TilbagekaldAarsag,
    Underretning,
    UnderretningType,
)
from fbs_debitor.core.bankdays import previous_bank_day
from fbs_debitor.core.clock import Clock


class PsrmStandIn:
    """PSRM's creditor services, simulated. Implements :class:`~.interface.Psrm`."""

    def __init__(
        self, clock: Clock, rules: StandInRules | None = None, state_path: Path | None = None
    ) -> None:
        self.clock = clock
        self.rules = rules or StandInRules()
        self._path = None if state_path is None else Path(state_path)
        self._memory: dict[str, Any] | None = None
        self._lock = threading.Lock()
        self._fail_left = self.rules.fail_calls

    # -- failures ------------------------------------------------------------------------------

    def fail_next(self, calls: int = 1) -> None:
        """Make the next ``calls`` calls raise PsrmUnavailable (see ``fail_after_effect``)."""
        with self._lock:
            self._fail_left += calls

    def _take_failure(self) -> bool:
        with self._lock:
            if self._fail_left <= 0:
                return False
            self._fail_left -= 1
        if not self.rules.fail_after_effect:
            raise PsrmUnavailable("PSRM did not answer in time (stand-in: nothing arrived)")
        return True

    # -- state ---------------------------------------------------------------------------------

    def _new_state(self) -> dict[str, Any]:
        return {
            "version": 1,
            "instance": uuid.uuid4().hex[:8],
            "settled_through": month_of(self.clock.today().replace(day=1) - timedelta(days=1)),
            "seq": {"receipt": 0, "notification": 0, "claim": 0, "action": 0},
            "actions": {},
            "claims": {},
            "active": {},
            "receipts": [],
            "notifications": [],
        }

    @contextmanager
    def _state(self) -> Iterator[dict[str, Any]]:
        """The state for one call, caught up to today; written back only if the call succeeds."""
        with self._lock:
            if self._path is None:
                # in memory the state is changed in place (a copy per call made a large run
                # quadratic); a failure the rules ask for is raised before the state is touched
                if not self._memory:
                    self._memory = self._new_state()
                self._catch_up(self._memory)
                yield self._memory
                return
            self._path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = self._path.with_name(self._path.name + ".lock")
            with lock_path.open("a+") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    if self._path.exists():
                        work = json.loads(self._path.read_text(encoding="utf-8"))
                    else:
                        work = self._new_state()
                    self._catch_up(work)
                    yield work
                    tmp = self._path.with_name(f".{self._path.name}.{uuid.uuid4().hex}.tmp")
                    with tmp.open("w", encoding="utf-8") as out:
                        json.dump(work, out, ensure_ascii=False)
                        out.flush()
                        os.fsync(out.fileno())
                    tmp.replace(self._path)
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)

    def _emit_receipt(
        self,
        s: dict[str, Any],
        a: dict[str, Any],
        status: KvitteringStatus,
        psrm_id: str | None = None,
        code: str = "",
        **fmt: object,
    ) -> None:
        s["seq"]["receipt"] += 1
        n = s["seq"]["receipt"]
        s["receipts"].append(
            js.kvittering_to_json(
                Kvittering(
                    kvittering_id=f"K-{s['instance']}-{n:08d}",
                    aktion_id=a["aktion_id"],
                    municipality=a["municipality"],
                    reference=a["reference"],
                    status=status,
                    tidspunkt=self.clock.now(),
                    psrm_fordring_id=psrm_id,
                    aarsag_kode=code,
                    aarsag_tekst=REASONS[code].format(**fmt) if code else "",
                ),
                n,
            )
        )

    def _emit_notification(
        self,
        s: dict[str, Any],
        claim: dict[str, Any],
        kind: UnderretningType,
        amount: int,
        on: date,
        settled_on: date | None = None,
        tekst: str = "",
    ) -> Underretning:
        s["seq"]["notification"] += 1
        n = s["seq"]["notification"]
        u = Underretning(
            underretning_id=f"U-{s['instance']}-{n:08d}",
            type=kind,
            municipality=claim["municipality"],
            reference=claim["reference"],
            psrm_fordring_id=claim["id"],
            beloeb_ore=amount,
            betalingsdato=on,
            afregningsdato=settled_on,
            tekst=tekst,
        )
        s["notifications"].append(js.underretning_to_json(u, n))
        return u

    @staticmethod
    def _close(s: dict[str, Any], claim: dict[str, Any], state: ClaimState) -> None:
        claim["state"] = state.value
        s["active"].pop(f"{claim['municipality']}:{claim['reference']}", None)

    # -- time passing --------------------------------------------------------------------------

    def _catch_up(self, s: dict[str, Any]) -> None:
        today = self.clock.today()
        current = month_of(today)
        while next_month(s["settled_through"]) < current:
            month = next_month(s["settled_through"])
            self._resolve_hearings(s, month_last(month))
            self._settle(s, month)
            s["settled_through"] = month
        self._resolve_hearings(s, today)

    def _resolve_hearings(self, s: dict[str, Any], up_to: date) -> None:
        for claim in s["claims"].values():
            if claim["state"] != ClaimState.HOERING or date.fromisoformat(claim["until"]) > up_to:
                continue
            action = s["actions"][claim["aktion_id"]]["action"]
            if self.rules.hearing_outcome == "AFVIST":
                self._close(s, claim, ClaimState.AFVIST)
                self._emit_receipt(s, action, KvitteringStatus.AFVIST, code="HOERING_AFVIST")
            else:
                claim["state"] = ClaimState.AKTIV.value
                claim["active_from"] = claim["until"]
                self._emit_receipt(s, action, KvitteringStatus.UDFOERT, psrm_id=claim["id"])

    def _settle(self, s: dict[str, Any], month: str) -> None:
        first, last = month_first(month), month_last(month)
        paid_out = previous_bank_day(last)
        for claim in list(s["claims"].values()):
            if claim["state"] != ClaimState.AKTIV or claim["balance"] <= 0:
                continue
            start = max(first, date.fromisoformat(claim["active_from"]))
            if start > last:
                continue
            pick = stable_hash(claim["municipality"], claim["reference"], month)
            if (pick >> 11) / float(1 << 53) >= self.rules.settle_share:
                continue
            if claim.get("instalment") is None:
                parts = self.rules.settle_instalments
                claim["instalment"] = -(-claim["balance"] // parts)
            amount = min(claim["instalment"], claim["balance"])
            paid_on = start + timedelta(
                days=stable_hash(month, claim["municipality"], claim["reference"])
                % ((last - start).days + 1)
            )
            claim["balance"] -= amount
            claim["settled"] += amount
            self._emit_notification(s, claim, UnderretningType.AFREGNING, amount, paid_on, paid_out)
            if claim["balance"] == 0:
                self._close(s, claim, ClaimState.BETALT)

    # -- MFFordringIndberet --------------------------------------------------------------------

    def submit(self, actions: Sequence[FordringAktion]) -> list[str]:
        fail = self._take_failure()
        with self._state() as s:
            for a in actions:
                known = s["actions"].get(a.aktion_id)
                if known is not None:
                    known["times"] += 1
                    continue
                s["seq"]["action"] += 1
                record = js.aktion_to_json(a)
                s["actions"][a.aktion_id] = {
                    "action": record,
                    "times": 1,
                    "order": s["seq"]["action"],
                }
                self._decide(s, a, record)
        if fail:
            raise PsrmUnavailable("PSRM did not answer in time (stand-in: the answer was lost)")
        return [a.aktion_id for a in actions]

    def _decide(self, s: dict[str, Any], a: FordringAktion, record: dict[str, Any]) -> None:
        today = self.clock.today()
        key = f"{a.municipality}:{a.reference}"
        claim = s["claims"].get(s["active"].get(key, ""))
        afvist = KvitteringStatus.AFVIST
        if a.aktion is Aktion.OPRETFORDRING:
            f = a.fordring
            if f is None:
                return self._emit_receipt(s, record, afvist, code="FORDRING_MANGLER")
            kind = f.fordringstype.strip()
            if kind in ("", "-"):
                return self._emit_receipt(s, record, afvist, code="FORDRINGSTYPE_MANGLER")
            if self.rules.known_claim_types and kind not in self.rules.known_claim_types:
                return self._emit_receipt(s, record, afvist, code="FORDRINGSTYPE_UKENDT", type=kind)
            if f.sidste_rettidige_betalingsdato >= today:
                srb = f.sidste_rettidige_betalingsdato.isoformat()
                return self._emit_receipt(s, record, afvist, code="SRB_IKKE_OVERSKREDET", srb=srb)
            if f.haeftelse.id in self.rules.unknown_debtors:
                debtor = f.haeftelse.masked
                return self._emit_receipt(s, record, afvist, code="SKYLDNER_UKENDT", debtor=debtor)
            if f.beloeb_ore <= 0:
                return self._emit_receipt(s, record, afvist, code="BELOEB_UGYLDIGT")
            if claim is not None:
                ref = a.reference
                return self._emit_receipt(s, record, afvist, code="FORDRING_FINDES", reference=ref)
            s["seq"]["claim"] += 1
            psrm_id = f"F-{s['instance']}-{s['seq']['claim']:08d}"
            hearing = kind in self.rules.hearing_claim_types
            s["claims"][psrm_id] = {
                "id": psrm_id,
                "municipality": a.municipality,
                "reference": a.reference,
                "aktion_id": a.aktion_id,
                "type": kind,
                "state": (ClaimState.HOERING if hearing else ClaimState.AKTIV).value,
                "balance": f.beloeb_ore,
                "settled": 0,
                "instalment": None,
                "created_on": today.isoformat(),
                "active_from": today.isoformat(),
                "until": (today + timedelta(days=self.rules.hearing_days)).isoformat(),
            }
            s["active"][key] = psrm_id
            if hearing:
                return self._emit_receipt(s, record, KvitteringStatus.HOERING, code="HOERING")
            return self._emit_receipt(s, record, KvitteringStatus.UDFOERT, psrm_id=psrm_id)
        if claim is None:
            return self._emit_receipt(
                s, record, afvist, code="FORDRING_UKENDT", reference=a.reference
            )
        if a.aktion is Aktion.TILBAGEKALD:
            if a.aarsagskode not in set(TilbagekaldAarsag):
                return self._emit_receipt(
                    s,
                    record,
                    afvist,
                    code="AARSAGSKODE_UGYLDIG",
                    kode=a.aarsagskode,
                    aktion=a.aktion,
                )
            self._close(s, claim, ClaimState.TILBAGEKALDT)
            return self._emit_receipt(s, record, KvitteringStatus.UDFOERT)
        amount = a.beloeb_ore
        if amount is None or amount <= 0:
            return self._emit_receipt(s, record, afvist, code="BELOEB_UGYLDIGT")
        if a.aktion is Aktion.OPSKRIV:
            claim["balance"] += amount
            return self._emit_receipt(s, record, KvitteringStatus.UDFOERT)
        if a.aarsagskode not in set(NedskrivAarsag):
            return self._emit_receipt(
                s, record, afvist, code="AARSAGSKODE_UGYLDIG", kode=a.aarsagskode, aktion=a.aktion
            )
        if amount > claim["balance"]:
            return self._emit_receipt(
                s,
                record,
                afvist,
                code="NEDSKRIVNING_OVERSTIGER_SALDO",
                amount=amount,
                balance=claim["balance"],
            )
        claim["balance"] -= amount
        if claim["balance"] == 0:
            self._close(s, claim, ClaimState.NEDSKREVET)
        return self._emit_receipt(s, record, KvitteringStatus.UDFOERT)

    # -- MFKvitteringHent, MFUnderretSamlingHent ----------------------------------------------

    def receipts(self, municipality: str, cursor: str | None, limit: int = 500) -> Page[Kvittering]:
        fail = self._take_failure()
        with self._state() as s:
            page = js.page(s["receipts"], municipality, cursor, limit, js.kvittering_from_json)
        if fail:
            raise PsrmUnavailable("PSRM did not answer in time (stand-in)")
        return page

    def notifications(
        self, municipality: str, cursor: str | None, limit: int = 500
    ) -> Page[Underretning]:
        fail = self._take_failure()
        with self._state() as s:
            page = js.page(
                s["notifications"], municipality, cursor, limit, js.underretning_from_json
            )
        if fail:
            raise PsrmUnavailable("PSRM did not answer in time (stand-in)")
        return page

    # -- helpers for tests and the demo -------------------------------------------------------

    def claim(self, reference: str, municipality: str) -> PsrmClaim | None:
        """The latest claim PSRM holds under our reference (active or closed), or None."""
        with self._state() as s:
            found = [
                c
                for c in s["claims"].values()
                if c["municipality"] == municipality and c["reference"] == reference
            ]
            if not found:
                return None
            c = max(found, key=lambda c: c["id"])
            return PsrmClaim(
                psrm_fordring_id=c["id"],
                municipality=c["municipality"],
                reference=c["reference"],
                state=ClaimState(c["state"]),
                fordringstype=c["type"],
                balance_ore=c["balance"],
                settled_ore=c["settled"],
                created_on=date.fromisoformat(c["created_on"]),
            )

    def _active(self, s: dict[str, Any], municipality: str, reference: str) -> dict[str, Any]:
        psrm_id = s["active"].get(f"{municipality}:{reference}")
        if psrm_id is None:
            raise KeyError(f"no active claim {reference} of municipality {municipality} in PSRM")
        claim: dict[str, Any] = s["claims"][psrm_id]
        return claim

    def send_back(
        self, municipality: str, reference: str, tekst: str = "Fordringen sendes tilbage."
    ) -> Underretning:
        """PSRM sends an active claim back (TILBAGESEND with what is left of it)."""
        with self._state() as s:
            claim = self._active(s, municipality, reference)
            u = self._emit_notification(
                s,
                claim,
                UnderretningType.TILBAGESEND,
                claim["balance"],
                self.clock.today(),
                None,
                tekst,
            )
            self._close(s, claim, ClaimState.TILBAGESENDT)
            return u

    def write_off(
        self,
        municipality: str,
        reference: str,
        beloeb_ore: int | None = None,
        tekst: str = "Fordringen er afskrevet.",
    ) -> Underretning:
        """PSRM writes off ``beloeb_ore`` of an active claim (default: all of it)."""
        with self._state() as s:
            claim = self._active(s, municipality, reference)
            amount = claim["balance"] if beloeb_ore is None else beloeb_ore
            if not 0 < amount <= claim["balance"]:
                raise ValueError(
                    f"cannot write off {amount} øre of a balance of {claim['balance']}"
                )
            claim["balance"] -= amount
            u = self._emit_notification(
                s, claim, UnderretningType.AFSKRIVNING, amount, self.clock.today(), None, tekst
            )
            if claim["balance"] == 0:
                self._close(s, claim, ClaimState.AFSKREVET)
            return u

    def actions_received(self) -> list[FordringAktion]:
        """Every distinct action received, in the order first received."""
        with self._state() as s:
            rows = sorted(s["actions"].values(), key=lambda r: r["order"])
            return [js.aktion_from_json(r["action"]) for r in rows]

    def times_received(self, aktion_id: str) -> int:
        """How often an action arrived (a retry counts; 0: never)."""
        with self._state() as s:
            row = s["actions"].get(aktion_id)
            return 0 if row is None else int(row["times"])

    def municipalities(self) -> list[str]:
        """The municipalities that sent anything (for the PSRM side of the file exchange)."""
        with self._state() as s:
            return sorted({r["action"]["municipality"] for r in s["actions"].values()})

    def today(self) -> date:
        return self.clock.today()

    def now(self) -> datetime:
        return self.clock.now()
