"""The collection context's pure domain: PSRM's vocabulary and the eligibility rules."""
