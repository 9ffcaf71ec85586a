"""`fbs-debitor demo`: a year of a municipality in minutes, through every flow, reconciled."""
