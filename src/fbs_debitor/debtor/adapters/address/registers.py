"""The CPR and CVR registers over HTTP (httpx): the real address look-up.

**CPR** (citizens). ``POST <cpr url>`` with ``{"personnummer": "<10 digits>", "myndighed":
"<kommunekode>"}`` (the number in the body, never in the URL, so no proxy or access log ever holds
it) answered by the person as the CPR register describes it, in the register's own attribute names
(Datafordeleren's CPR entities ``Person``, ``Navn``, ``CprAdresse``, ``Beskyttelse``)::

    {"person": {
      "status": "01",
      "navn": {"adresseringsnavn": "Anne M. Nielsen", "fornavne": "Anne Marie",
               "mellemnavn": "", "efternavn": "Nielsen"},
      "adresse": {"conavn": "", "vejadresseringsnavn": "Vesterbrogade", "husnummer": "012A",
                  "etage": "02", "sidedoer": "tv", "bynavn": "", "postnummer": "1620",
                  "postdistrikt": "København V"},
      "beskyttelser": [{"beskyttelsestype": "0001", "virkningtil": null}]}}

404: the register does not know the number. A municipality's gateway to the register
(Serviceplatformen's CPR services or Datafordeleren, both behind certificates) answers in this
shape; docs/configuration.md says how to point the setting at it.

**CVR** (companies). Erhvervsstyrelsen's CVR distribution (``.../cvr-permanent/virksomhed/_search``,
Elasticsearch, basic authentication): ``POST`` a term query on ``Vrvirksomhed.cvrNummer``; the
answer's ``hits.hits[0]._source.Vrvirksomhed.virksomhedMetadata`` holds ``nyesteNavn.navn`` and
``nyesteBeliggenhedsadresse`` (``vejnavn``, ``husnummerFra``, ``bogstavFra``, ``etage``,
``sidedoer``, ``conavn``, ``bynavn``, ``postnummer``, ``postdistrikt``, ``postboks``). No hit: the
register does not know the number.

Every failure (timeout, connection error, HTTP error, refused credentials, a body that does not
read) becomes :class:`AddressLookupError` with the register's name and the HTTP status, never the
number nor the body (a register may echo the number).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import httpx

from fbs_debitor.core.clock import Clock
from fbs_debitor.core.ids import Cpr, Cvr
from fbs_debitor.debtor.adapters.address.lookup import AddressLookupError
from fbs_debitor.debtor.model.addresses import (
    LookupResult,
    NoAddress,
    NoAddressReason,
    PostalAddress,
    company_recipient,
    person_recipient,
)

CPR_REGISTER = "CPR-registret"
CVR_REGISTER = "CVR-registret"

NAME_AND_ADDRESS_PROTECTION = "0001"
"""The CPR register's ``beskyttelsestype`` of navne- og adressebeskyttelse (0002 local
directory, 0003 marketing and 0004 research protection do not change a letter)."""


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def house_number(value: Any) -> str:
    """CPR ``husnummer`` ("012A", " 12A", "7") or CVR number and letter as written: "12A"."""
    text = _text(value).replace(" ", "")
    match = re.fullmatch(r"0*(\d*)([A-Za-zÆØÅæøå]?)", text)
    if match is None:
        return text
    return f"{match.group(1)}{match.group(2).upper()}"


def floor(value: Any) -> str:
    """CPR/CVR ``etage``: "02" -> "2"; "st", "kl", "k2" lower-case as they are."""
    text = _text(value).lower()
    if text.isdigit():
        return text.lstrip("0") or "0"
    return text


def door(value: Any) -> str:
    """``sidedoer``: "tv", "th", "mf" as they are; a number without its leading zeros."""
    text = _text(value).lower()
    return (text.lstrip("0") or "0") if text.isdigit() else text


def _postcode(value: Any) -> str:
    text = _text(value)
    return text.zfill(4) if text.isdigit() else text


def cpr_address(a: dict[str, Any] | None) -> PostalAddress | None:
    """A ``CprAdresse`` as a postal address; None when it has no street or postcode."""
    if not a:
        return None
    street = _text(a.get("vejadresseringsnavn")) or _text(a.get("vejnavn"))
    postcode = _postcode(a.get("postnummer"))
    if not street or not postcode:
        return None
    city = _text(a.get("postdistrikt"))
    locality = _text(a.get("bynavn"))
    return PostalAddress(
        street=street,
        building=house_number(a.get("husnummer")) or _text(a.get("bygningsnummer")),
        floor=floor(a.get("etage")),
        door=door(a.get("sidedoer")),
        postcode=postcode,
        city=city,
        care_of=_text(a.get("conavn")),
        locality="" if locality == city else locality,
    )


def cvr_address(a: dict[str, Any] | None) -> PostalAddress | None:
    """A CVR ``nyesteBeliggenhedsadresse`` as a postal address; None without street and postcode
    (a post box counts as the street)."""
    if not a:
        return None
    street = _text(a.get("vejnavn"))
    building = f"{_text(a.get('husnummerFra'))}{_text(a.get('bogstavFra'))}"
    if not street and _text(a.get("postboks")):
        street, building = f"Postboks {_text(a.get('postboks'))}", ""
    postcode = _postcode(a.get("postnummer"))
    if not street or not postcode:
        return None
    city = _text(a.get("postdistrikt"))
    locality = _text(a.get("bynavn"))
    return PostalAddress(
        street=street,
        building=house_number(building),
        floor=floor(a.get("etage")),
        door=door(a.get("sidedoer")),
        postcode=postcode,
        city=city,
        care_of=_text(a.get("conavn")),
        locality="" if locality == city else locality,
    )


def _name(navn: dict[str, Any]) -> str:
    given = _text(navn.get("adresseringsnavn"))
    if given:
        return given
    parts = (navn.get("fornavne"), navn.get("mellemnavn"), navn.get("efternavn"))
    return " ".join(t for t in (_text(p) for p in parts) if t)


def _in_force(until: Any, today: date) -> bool:
    text = _text(until)
    if not text:
        return True
    try:
        return date.fromisoformat(text[:10]) > today
    except ValueError:
        return True  # an end we cannot read: stay on the safe side, protected


def is_protected(protections: Any, today: date) -> bool:
    """Whether name and address protection is in force ``today``."""
    if not isinstance(protections, list):
        return False
    return any(
        isinstance(p, dict)
        and _text(p.get("beskyttelsestype")) == NAME_AND_ADDRESS_PROTECTION
        and _in_force(p.get("virkningtil"), today)
        for p in protections
    )


class RegisterAddressLookup:
    """The registers over HTTP. ``client`` carries the credentials and the timeout
    (``configured.register_client``); tests give it an ``httpx.MockTransport``."""

    def __init__(self, *, cpr_url: str, cvr_url: str, client: httpx.Client, clock: Clock) -> None:
        self.cpr_url = cpr_url
        self.cvr_url = cvr_url
        self.client = client
        self.clock = clock

    def lookup(self, debtor: Cpr | Cvr, municipality: str) -> LookupResult:
        if isinstance(debtor, Cpr):
            return self._person(debtor, municipality)
        return self._company(debtor)

    def _post(self, register: str, url: str, body: dict[str, Any]) -> httpx.Response:
        try:
            return self.client.post(url, json=body, headers={"Accept": "application/json"})
        except httpx.TimeoutException as error:
            raise AddressLookupError(
                f"{register} svarede ikke i tide / the register did not answer in time",
                register=register,
            ) from error
        except httpx.HTTPError as error:
            raise AddressLookupError(
                f"{register} kunne ikke nås / the register could not be reached "
                f"({type(error).__name__})",
                register=register,
            ) from error

    @staticmethod
    def _body(register: str, response: httpx.Response) -> dict[str, Any]:
        status = response.status_code
        if status in (401, 403):
            raise AddressLookupError(
                f"{register} afviste adgangen / the register refused the credentials "
                f"(HTTP {status})",
                register=register,
                status=status,
            )
        if status != 200:
            raise AddressLookupError(
                f"{register} svarede HTTP {status} / the register answered HTTP {status}",
                register=register,
                status=status,
            )
        try:
            body = response.json()
        except ValueError as error:
            raise AddressLookupError(
                f"{register} svarede ikke med JSON / the register's answer is not JSON",
                register=register,
            ) from error
        if not isinstance(body, dict):
            raise AddressLookupError(
                f"{register} svarede uforståeligt / the register's answer does not read",
                register=register,
            )
        return body

    def _person(self, cpr: Cpr, municipality: str) -> LookupResult:
        response = self._post(
            CPR_REGISTER, self.cpr_url, {"personnummer": cpr.value, "myndighed": municipality}
        )
        if response.status_code == 404:
            return NoAddress(NoAddressReason.UNKNOWN)
        person = self._body(CPR_REGISTER, response).get("person")
        if not isinstance(person, dict) or not _text(person.get("status")):
            raise AddressLookupError(
                f"{CPR_REGISTER} svarede uden person og status / the answer has no person status",
                register=CPR_REGISTER,
            )
        navn = person.get("navn")
        adresse = person.get("adresse")
        return person_recipient(
            status=_text(person["status"]).zfill(2),
            name=_name(navn) if isinstance(navn, dict) else "",
            protected=is_protected(person.get("beskyttelser"), self.clock.today()),
            address=cpr_address(adresse) if isinstance(adresse, dict) else None,
        )

    def _company(self, cvr: Cvr) -> LookupResult:
        query = {
            "query": {"term": {"Vrvirksomhed.cvrNummer": int(cvr.value)}},
            "_source": ["Vrvirksomhed.cvrNummer", "Vrvirksomhed.virksomhedMetadata"],
            "size": 1,
        }
        body = self._body(CVR_REGISTER, self._post(CVR_REGISTER, self.cvr_url, query))
        hits = body.get("hits")
        found = hits.get("hits") if isinstance(hits, dict) else None
        if not isinstance(found, list):
            raise AddressLookupError(
                f"{CVR_REGISTER} svarede uden hits / the answer has no hits",
                register=CVR_REGISTER,
            )
        if not found:
            return NoAddress(NoAddressReason.UNKNOWN)
        try:
            meta = found[0]["_source"]["Vrvirksomhed"]["virksomhedMetadata"]
            name = _text((meta.get("nyesteNavn") or {}).get("navn"))
            address = cvr_address(meta.get("nyesteBeliggenhedsadresse"))
        except (KeyError, TypeError, AttributeError) as error:
            raise AddressLookupError(
                f"{CVR_REGISTER} svarede uden virksomhedMetadata / the answer does not read",
                register=CVR_REGISTER,
            ) from error
        return company_recipient(name=name, address=address)
