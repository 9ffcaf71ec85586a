"""Municipalities: settings, debtor vendor profile, cutoff date, sortiment mapping, API keys."""
