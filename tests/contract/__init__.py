"""Contract tests: one set of tests that every implementation of an interface passes."""
