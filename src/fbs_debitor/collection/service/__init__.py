"""The collection context's use cases: the hand-over run, the exchange with PSRM (submitting
actions, reading receipts and notifications) and the regulation of claims PSRM holds."""
