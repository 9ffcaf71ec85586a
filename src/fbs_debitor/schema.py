"""Imports every context's tables so that :data:`fbs_debitor.core.db.metadata` is complete.

Alembic and the test set-up import this module; nothing else needs to.
"""

from fbs_debitor.core.db import metadata
from fbs_debitor.debtor import allocation as _debtor_allocation  # noqa: F401 - debtor_payment
from fbs_debitor.debtor import credit as _debtor_credit  # noqa: F401 - debtor_refund
from fbs_debitor.debtor import store as _debtor_store  # noqa: F401 - registers the debtor tables
from fbs_debitor.library import tables as _library_tables  # noqa: F401 - registers the library tables
from fbs_debitor.messaging import store as _messaging_store
from fbs_debitor.payments import store as _payments_store  # noqa: F401 - the payments tables
from fbs_debitor.tenants import store as _tenants_store

__all__ = ["metadata"]
_ = (_messaging_store, _tenants_store)
