"""Versioned messages between the contexts (pydantic v2), with JSON and XML forms.

``registration``: claims from the library to debtor (DebitorRegistreringAfsend).
``tenants``: municipal set-up the other contexts keep a copy of.
"""
