"""Configuration, read from the environment with the prefix ``FBS_DEBITOR_`` (see docs/configuration.md)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite:///./fbs-debitor.db"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FBS_DEBITOR_", extra="ignore")

    env: Literal["development", "production"] = "development"
    """``production`` refuses everything made for demos and tests: demo keys, the development
    identity provider, development patron tokens."""

    database_url: str = DEFAULT_DATABASE_URL
    """SQLAlchemy URL or a plain file path (taken as SQLite). ``postgresql://`` uses psycopg 3."""

    worker_poll_interval_s: float = 0.02
    """How long an idle worker sleeps before it looks at the outbox again."""

    worker_batch_size: int = 500
    """Outbox rows one worker claims and applies in one transaction."""

    max_attempts: int = 8
    """Deliveries of one message before it is dead-lettered."""

    backoff_base_s: float = 0.5
    """First retry delay; doubled on every further attempt, capped at ``backoff_max_s``."""

    backoff_max_s: float = 300.0

    psrm_handover_interval_s: float = Field(default=3600.0, gt=0)
    """How often ``serve`` runs the hand-over to PSRM of today (a repeated run hands nothing
    over twice)."""

    psrm_sync_interval_s: float = Field(default=300.0, gt=0)
    """How often ``serve`` reads PSRM's receipts and notifications (settlements)."""

    letter_dir: str = "letters"
    """Where the letter delivery job writes letters as PDF (``<kommunekode>/<letter id>.pdf``)."""

    address_lookup: Literal["fake", "register"] = "fake"
    """Where letters get the debtor's name and address: ``fake`` (invented, the same for the same
    number: the demo and the tests) or ``register`` (the CPR and CVR registers over HTTP)."""

    address_lookup_cpr_url: str = ""
    """The CPR person look-up (``register``): POST, the CPR number in the body."""

    address_lookup_cvr_url: str = ""
    """The CVR register's search (``register``), e.g. Erhvervsstyrelsen's
    ``http://distribution.virk.dk/cvr-permanent/virksomhed/_search``."""

    address_lookup_username: str = ""
    """Basic authentication towards both registers (none if empty)."""

    address_lookup_password: SecretStr = SecretStr("")

    address_lookup_timeout_s: float = 5.0
    """How long one look-up may take before the letter waits and is tried again."""

    @model_validator(mode="after")
    def _registers_have_urls(self) -> Self:
        if self.address_lookup == "register" and not (
            self.address_lookup_cpr_url and self.address_lookup_cvr_url
        ):
            raise ValueError(
                "FBS_DEBITOR_ADDRESS_LOOKUP=register needs FBS_DEBITOR_ADDRESS_LOOKUP_CPR_URL "
                "and FBS_DEBITOR_ADDRESS_LOOKUP_CVR_URL"
            )
        return self

    # -- PSRM, the state debt collector (collection/adapters/psrm; docs/configuration.md) --------

    psrm_adapter: Literal["standin", "files", "soap"] = "standin"
    """How claims reach PSRM: ``standin`` (a built-in stand-in that answers as PSRM does: the
    demo and the tests), ``files`` (XML files in ``psrm_folder`` that a transport carries) or
    ``soap`` (PSRM's SOAP services at ``psrm_url``)."""

    psrm_folder: str = "psrm"
    """``files``: the exchange folder (``out/`` what we submit, ``in/`` receipts and
    notifications, ``in/rejected/`` in-files that were not valid)."""

    psrm_url: str = ""
    """``soap``: the endpoint of PSRM's creditor services (through the debtor vendor)."""

    psrm_timeout_s: float = 30.0
    """``soap``: how long one call may take; then it counts as not answered and is retried
    later with the same action ids."""

    psrm_standin_state: str = ""
    """``standin``: a JSON file that holds the stand-in's state, so that every process naming it
    sees one PSRM (empty: in memory, per process)."""

    @model_validator(mode="after")
    def _psrm_soap_has_url(self) -> Self:
        if self.psrm_adapter == "soap" and not self.psrm_url:
            raise ValueError("FBS_DEBITOR_PSRM_ADAPTER=soap needs FBS_DEBITOR_PSRM_URL")
        return self

    patron_token_secret: SecretStr = SecretStr("")
    """Development only: the key (32 characters or more) that signs and checks the patron tokens
    ``fbs-debitor patron token`` prints; the server and the command need the same. Empty: no
    development patron tokens at all. Refused in production whatever it says."""

    patron_token_minutes: int = Field(default=15, ge=1, le=60)
    """How long a development patron token lives unless ``--minutes`` says otherwise (at most 60)."""

    patron_token_introspection_url: str = ""
    """Adgangsplatformen's token introspection (e.g. ``https://login.bib.dk/oauth/introspection``).
    Set: patron tokens are checked there (in any environment). Empty: only development tokens,
    and in production no patron token at all."""

    patron_token_client_id: str = ""
    """This service's client at Adgangsplatformen (basic authentication towards introspection)."""

    patron_token_client_secret: SecretStr = SecretStr("")

    patron_token_patron_claim: str = "patronId"  # noqa: S105 (an attribute name, no secret)
    """The introspection answer's attribute that holds the patron's id in this system."""

    patron_token_timeout_s: float = 3.0
    """How long one introspection call may take; a timeout refuses the token (401)."""

    patron_token_cache_s: float = 60.0
    """How long an introspection answer is reused for the same token (never past its expiry)."""

    # -- the HTTP edge (web/edge.py, cli/serve.py; docs/configuration.md) ----------------------

    max_bank_file_bytes: int = 200 * 1024 * 1024
    """The largest request body of ``POST /api/v1/{kommunekode}/bank-files`` (413 beyond)."""

    max_json_bytes: int = 1024 * 1024
    """The largest request body of every other route (413 beyond)."""

    body_read_timeout_seconds: float = 30.0
    """How long a request body may take to arrive, plus one second per
    ``body_min_bytes_per_second`` bytes received; a slower body is cut off with 408."""

    body_min_bytes_per_second: int = 64 * 1024
    """The slowest upload rate a large body keeps its connection with (see above)."""

    trust_proxy_headers: bool = False
    """Believe ``X-Forwarded-Proto`` (behind a TLS-terminating proxy): HSTS is sent when it says
    ``https``."""

    upload_jobs: Literal["process", "thread"] = "process"
    """How an uploaded bank file's import job runs: in a child process (``fbs-debitor import
    job``; the import's CPU stays off the serving process, so other requests do not wait for it)
    or in a thread of the serving process (sharing its clock: tests)."""

    upload_dir: str = ""
    """Where uploaded bank files wait for their import job (empty: a folder in the system's
    temporary directory). Each API process takes up the jobs of its own machine."""

    http_keep_alive_seconds: float = 5.0
    """uvicorn: an idle keep-alive connection is closed after this."""

    http_limit_concurrency: int = 200
    """uvicorn: connections and requests served at once; beyond, 503."""

    http_max_header_bytes: int = 16 * 1024
    """uvicorn (h11): the largest request head (line and headers); beyond, the connection is
    closed."""

    log_level: str = "INFO"
    log_json: bool = True

    # -- People logging in (OpenID Connect; docs/security.md "Sessions and login") -------------

    public_base_url: str = "http://127.0.0.1:8000"
    """The address people reach this service at; every redirect URI is built from it (never
    from the request's Host header). ``https://`` makes the session cookie ``Secure``."""

    session_secret: SecretStr = SecretStr("")
    """Key material of the session and login cookies (32 random bytes or more, e.g.
    ``python -c 'import secrets; print(secrets.token_urlsafe(32))'``). Several, separated by
    spaces, rotate it: the first seals new cookies, all open existing ones. Required in
    production; empty in development: a per-process secret (sessions end on restart)."""

    session_max_age_s: int = 3600
    """How long a person's session lives after login (then they log in again)."""

    citizen_issuer: str = ""
    """The citizens' OpenID Connect broker in front of NemLog-in (its issuer URL); empty:
    citizens cannot log in (in a demo: the development identity provider)."""

    citizen_client_id: str = ""
    citizen_client_secret: SecretStr = SecretStr("")

    citizen_cpr_claim: str = "dk.cpr"
    """The ID token claim that carries the CPR number (the name differs per broker)."""

    citizen_loa_claim: str = "loa"
    """The ID token claim that carries the NSIS level of assurance."""

    citizen_required_loa: str = "https://data.gov.dk/concept/core/nsis/loa/Substantial"
    """The lowest NSIS level of assurance accepted (Low < Substantial < High); also sent to the
    broker as ``acr_values``."""

    citizen_scopes: str = "openid"
    """Scopes asked of the citizens' broker (some need e.g. ``ssn`` or ``nemlogin`` for the CPR)."""

    dev_idp: bool = False
    """Run the development identity provider (``serve --demo`` turns it on). Refused in
    production."""

    dev_idp_port: int = 8001
    """Port of the development identity provider (on localhost)."""

    @model_validator(mode="after")
    def _no_development_provider_in_production(self) -> Self:
        if self.env == "production" and self.dev_idp:
            raise ValueError(
                "the development identity provider (FBS_DEBITOR_DEV_IDP) is refused when "
                "FBS_DEBITOR_ENV=production"
            )
        return self
