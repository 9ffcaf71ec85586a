"""PSRM adapters: one interface (``interface.Psrm``) and its implementations."""
