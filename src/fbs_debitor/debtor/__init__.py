"""The debtor system: accounts, claims, ledger, invoicing, dunning, allocation, write-off."""
