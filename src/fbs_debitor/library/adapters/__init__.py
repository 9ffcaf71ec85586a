"""The library's adapters to the outside world."""
