"""PSRM: eligibility, hand-over, receipts, settlements, recalls."""
