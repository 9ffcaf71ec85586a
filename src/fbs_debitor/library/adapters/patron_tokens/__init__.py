"""A patron's bearer token on the FBS fee API: who it names (agency and patron) and until when.

The interface (``verifier``); tokens this instance signs itself for development, the demo and the
tests (``development``); Adgangsplatformen's token introspection, the real check
(``introspection``); and the choice between them by setting (``configured``). See
docs/decisions/0018-patron-tokens-on-the-fbs-fee-api.md."""
