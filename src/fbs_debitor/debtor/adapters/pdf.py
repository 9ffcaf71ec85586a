"""Letters as HTML and PDF (WeasyPrint), from the Jinja2 template in ``templates/``: the invoice
(opkrævning) with its FIK payment slip and the reminders, in Danish like the real ones."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from fbs_debitor.core.money import format_dkk
from fbs_debitor.debtor.model.addresses import Recipient
from fbs_debitor.debtor.model.letters import Letter, danish_date

TEMPLATES = Path(__file__).resolve().parent / "templates"


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["kr"] = format_dkk
    env.filters["dansk_dato"] = danish_date
    return env


def render_html(
    letter: Letter, recipient: Recipient | None = None, *, address_note: str = ""
) -> str:
    """The letter as HTML. ``recipient`` fills the envelope window (name and address, or the
    name only under address protection); without one the window shows the masked debtor number
    and "Adresse mangler" with ``address_note``: a preview for staff, never a letter that leaves
    (the delivery job holds a letter without an address, decision 0013)."""
    return (
        _env()
        .get_template("letter.html")
        .render(letter=letter, recipient=recipient, address_note=address_note)
    )


def render_pdf(
    letter: Letter, recipient: Recipient | None = None, *, address_note: str = ""
) -> bytes:
    """The letter as PDF (A4); the arguments as :func:`render_html`'s."""
    from weasyprint import HTML

    html = render_html(letter, recipient, address_note=address_note)
    pdf = HTML(string=html, base_url=str(TEMPLATES)).write_pdf()
    assert pdf is not None
    return bytes(pdf)
