"""The collection context's tables and queries."""
