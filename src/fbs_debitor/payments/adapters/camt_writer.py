"""Write Danish camt.054.001.02 credit notifications (for the demo, tests and benchmarks): what a
bank sends the municipality for FIK payments. Streams to the file, one entry at a time."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from xml.sax.saxutils import escape

NS = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"


@dataclass(frozen=True, slots=True)
class BankCredit:
    """One credit: the bank's reference, the amount in øre, and the FIK payment ID (or None and
    a free text, as when the payer typed something instead)."""

    reference: str
    amount_ore: int
    booked_on: date
    payment_id: str | None = None
    text: str = ""
    payer: str = "Borger"


def _amount(ore: int) -> str:
    return f"{ore // 100}.{ore % 100:02d}"


def _entry(c: BankCredit) -> str:
    if c.payment_id:
        remittance = (
            "<RmtInf><Strd><CdtrRefInf><Tp><CdOrPrtry><Prtry>71</Prtry></CdOrPrtry></Tp>"
            f"<Ref>{escape(c.payment_id)}</Ref></CdtrRefInf></Strd></RmtInf>"
        )
    else:
        remittance = f"<RmtInf><Ustrd>{escape(c.text[:140])}</Ustrd></RmtInf>"
    day = c.booked_on.isoformat()
    return (
        f'<Ntry><Amt Ccy="DKK">{_amount(c.amount_ore)}</Amt><CdtDbtInd>CRDT</CdtDbtInd>'
        f"<Sts>BOOK</Sts><BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<AcctSvcrRef>{escape(c.reference)}</AcctSvcrRef><BkTxCd><Domn><Cd>PMNT</Cd><Fmly>"
        "<Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd><NtryDtls><TxDtls>"
        f"<RltdPties><Dbtr><Nm>{escape(c.payer)}</Nm></Dbtr></RltdPties>{remittance}"
        "</TxDtls></NtryDtls></Ntry>\n"
    )


def write_camt054(path: Path, message_id: str, credits: Iterable[BankCredit]) -> None:
    """Write the file; ``message_id`` names it (the bank's MsgId)."""
    with path.open("w", encoding="utf-8") as f:
        f.write(
            f'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="{NS}">'
            f"<BkToCstmrDbtCdtNtfctn><GrpHdr><MsgId>{escape(message_id)}</MsgId>"
            "<CreDtTm>2026-01-01T08:00:00+01:00</CreDtTm></GrpHdr>"
            f"<Ntfctn><Id>{escape(message_id)}-1</Id>"
            "<CreDtTm>2026-01-01T08:00:00+01:00</CreDtTm><Acct><Id><IBAN>DK5000400440116243"
            "</IBAN></Id><Ccy>DKK</Ccy></Acct>\n"
        )
        for credit in credits:
            f.write(_entry(credit))
        f.write("</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>\n")
