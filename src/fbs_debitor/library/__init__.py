"""The FBS side: patrons, fees, cutoff, regulation; the FBS-compatible fees API."""
