"""The PSRM adapter a deployment uses, chosen by its settings (``FBS_DEBITOR_PSRM_ADAPTER``):

* ``standin`` (default): :class:`~.standin.PsrmStandIn` with its default rules; in memory, or in
  the JSON file ``FBS_DEBITOR_PSRM_STANDIN_STATE`` (shared by every process that names it);
* ``files``: :class:`~.files.PsrmFiles` in ``FBS_DEBITOR_PSRM_FOLDER``;
* ``soap``: :class:`~.soap.PsrmSoap` at ``FBS_DEBITOR_PSRM_URL`` with
  ``FBS_DEBITOR_PSRM_TIMEOUT_S`` (unsigned: a signing gateway of the debtor vendor sits in front
  of PSRM, or the caller builds ``PsrmSoap`` itself with a signer).
"""

from __future__ import annotations

from pathlib import Path

from fbs_debitor.collection.adapters.psrm.files import PsrmFiles
from fbs_debitor.collection.adapters.psrm.interface import Psrm
from fbs_debitor.collection.adapters.psrm.soap import PsrmSoap
from fbs_debitor.collection.adapters.psrm.standin import PsrmStandIn
from fbs_debitor.core.clock import Clock
from fbs_debitor.settings import Settings


def configured_psrm(settings: Settings, clock: Clock) -> Psrm:
    """The PSRM adapter ``settings`` choose, on ``clock``."""
    if settings.psrm_adapter == "files":
        return PsrmFiles(Path(settings.psrm_folder), clock)
    if settings.psrm_adapter == "soap":
        return PsrmSoap(settings.psrm_url, timeout_s=settings.psrm_timeout_s)
    state = settings.psrm_standin_state
    return PsrmStandIn(clock, state_path=Path(state) if state else None)
