"""Value types and pure helpers shared by every context.

Money in øre, CPR/CVR, the clock, bank days, FIK payment IDs, typed errors, storage.
"""
