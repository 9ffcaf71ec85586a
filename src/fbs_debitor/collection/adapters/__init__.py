"""The collection context's outside world: PSRM."""
