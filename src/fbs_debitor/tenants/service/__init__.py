"""Use cases of the tenants context: one transaction each, a module per subject."""
