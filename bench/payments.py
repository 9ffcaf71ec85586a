"""Bank import (leg 3 in): entries per second and peak memory of importing a Danish camt.054.

``--entries`` invoices are made payable through the payments context's own handler (one
``coverage.InvoiceIssued`` per invoice, delivered by the worker, as debtor's invoicing sends
them); then a camt.054.001.02 file with one entry paying each invoice is written to disk
(streamed, never built in memory) and imported by a child process, as ``fbs-debitor import
camt`` does. ``entries_per_s`` runs from the start of the import (the streaming XSD validation
included) until every payment is stored and its ``PaymentReceived`` is in the outbox;
``peak_rss_mb`` is the child's peak resident memory (``ru_maxrss``). The debtor's allocation and
the library's coverage (legs 3 and 4 end to end) are not in this figure yet: they join it when
debtor consumes ``PaymentReceived``.

``--memory-only`` skips the payable copy (every entry is then unmatched but still stored and
sent) and is meant for ``--entries 1000000``: memory must stay flat (target < 300 MB), whatever
the file size. Its result is written as ``payments-memory.json``. Targets: >= 5,000 entries/s,
peak < 300 MB.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bench.common import parser, run
from bench.setup import KOMMUNE
from fbs_debitor.bootstrap import build_system
from fbs_debitor.contracts.coverage import InvoiceIssued
from fbs_debitor.contracts.sending import Outgoing, send_many
from fbs_debitor.core.clock import SettableClock
from fbs_debitor.core.db import Database
from fbs_debitor.core.fik import PaymentId
from fbs_debitor.messaging.store import outbox

NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
AMOUNTS = (2000, 9000, 12000, 23000, 34950)
DAY = date(2026, 3, 2)


def amount_of(i: int) -> int:
    return AMOUNTS[i % len(AMOUNTS)]


def make_payable(db: Database, n: int, chunk: int = 5000) -> float:
    """Issue ``n`` invoices to the payments context; returns invoices per second."""
    system = build_system(db=db, clock=SettableClock.at_date(DAY))
    t = time.perf_counter()
    for start in range(0, n, chunk):
        messages = [
            Outgoing(
                InvoiceIssued(
                    municipality=KOMMUNE,
                    occurred_at=system.clock.now(),
                    invoice_id=str(i + 1),
                    payment_id=PaymentId.generate(i + 1).value,
                    creditor_number="89123456",
                    debtor_id_masked="010180-XXXX",
                    amount_ore=amount_of(i),
                    due_date=date(2026, 3, 16),
                    last_timely_payment_date=date(2026, 3, 16),
                    claim_ids=[f"c{i + 1}"],
                )
            )
            for i in range(start, min(n, start + chunk))
        ]
        with db.begin() as conn:
            send_many(conn, messages, source="debtor", leg="leg2")
    system.drain(timeout_s=3600)
    return n / (time.perf_counter() - t)


def write_camt054(path: Path, n: int) -> None:
    """A Danish camt.054 with ``n`` entries, entry i paying invoice i+1 with its FIK payment ID;
    written entry by entry, so memory does not grow with ``n``."""
    with path.open("w", encoding="utf-8") as f:
        f.write(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}">'
            "<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>BENCH</MsgId>"
            "<CreDtTm>2026-03-02T08:00:00+01:00</CreDtTm></GrpHdr><Ntfctn><Id>BENCH-1</Id>"
            "<CreDtTm>2026-03-02T08:00:00+01:00</CreDtTm><Acct><Id><IBAN>DK5000400440116243"
            "</IBAN></Id><Ccy>DKK</Ccy></Acct>\n"
        )
        for i in range(n):
            ore = amount_of(i)
            f.write(
                f'<Ntry><Amt Ccy="DKK">{ore // 100}.{ore % 100:02d}</Amt><CdtDbtInd>CRDT'
                "</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-03-02</Dt></BookgDt><ValDt><Dt>"
                f"2026-03-02</Dt></ValDt><AcctSvcrRef>B{i:012d}</AcctSvcrRef><BkTxCd><Domn><Cd>"
                "PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>"
                "<NtryDtls><TxDtls><RltdPties><Dbtr><Nm>Borger nr. "
                f"{i}</Nm></Dbtr></RltdPties><RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>71"
                f"</Prtry></CdOrPrtry></Tp><Ref>{PaymentId.generate(i + 1).value}</Ref>"
                "</CdtrRefInf></Strd></RmtInf></TxDtls></NtryDtls></Ntry>\n"
            )
        f.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")


def child(path: str, url: str) -> None:
    """The import in its own process: print the summary with the peak memory."""
    from fbs_debitor.core.clock import SystemClock
    from fbs_debitor.payments.bank import import_bank_file

    summary = import_bank_file(Database(url), SystemClock(), KOMMUNE, Path(path)).to_json()
    summary.pop("errors")
    summary["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(summary))


def bench(db: Database, n: int, memory_only: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"entries": n}
    if not memory_only:
        out["payable_copy_per_s"] = round(make_payable(db, n), 1)
    with tempfile.TemporaryDirectory(prefix="fbsd-bench-camt-") as tmp:
        path = Path(tmp) / "camt054.xml"
        t = time.perf_counter()
        write_camt054(path, n)
        out["generate_s"] = round(time.perf_counter() - t, 2)
        out["file_mb"] = round(path.stat().st_size / 2**20, 1)
        t = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - our own module
            [sys.executable, "-m", "bench.payments", "--child", str(path), db.url],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        wall = time.perf_counter() - t
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    with db.connect() as conn:
        received = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.message_type == "payment.PaymentReceived.v1")
        ).scalar_one()
    assert summary["entries"] == n and received == n, (summary, received)
    if not memory_only:
        assert summary["matched"] == n, summary
    out.update(
        {
            "entries_per_s": round(n / summary["elapsed_s"], 1),
            "import_s": summary["elapsed_s"],
            "process_wall_s": round(wall, 2),
            "matched": summary["matched"],
            "unmatched": summary["unmatched"],
            "peak_rss_mb": round(summary["peak_rss_mb"], 1),
            "children_max_rss_mb": round(
                resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1
            ),
        }
    )
    return out


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        return
    p = parser("payments", __doc__ or "")
    p.add_argument("--entries", type=int, default=100000)
    p.add_argument(
        "--memory-only", action="store_true", help="no payable copy; for 1,000,000 entries"
    )
    args = p.parse_args()
    name = "payments-memory" if args.memory_only else "payments"
    run(name, args.database, lambda db: bench(db, args.entries, args.memory_only))


if __name__ == "__main__":
    main()
