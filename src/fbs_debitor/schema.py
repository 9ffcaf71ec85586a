"""Imports every context's tables so that :data:`fbs_debitor.core.db.metadata` is complete.

Alembic and the test set-up import this module; nothing else needs to.
"""

from fbs_debitor.collection.store import tables as _collection_tables
from fbs_debitor.core.db import metadata
from fbs_debitor.debtor.store import tables as _debtor_tables
from fbs_debitor.library.store import tables as _library_tables
from fbs_debitor.messaging import store as _messaging_store
from fbs_debitor.payments.store import tables as _payments_tables
from fbs_debitor.tenants.store import tables as _tenants_tables

__all__ = ["metadata"]
_ = (
    _collection_tables,
    _debtor_tables,
    _library_tables,
    _messaging_store,
    _payments_tables,
    _tenants_tables,
)
