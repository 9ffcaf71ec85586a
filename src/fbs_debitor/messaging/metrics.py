"""Prometheus metrics of the message flow."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

LEG_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 300.0, 3600.0)

leg_delay_seconds = Histogram(
    "fbs_debitor_leg_delay_seconds",
    "Wall-clock delay from a message's enqueue (the business event) to its effect at the receiver",
    ["leg"],
    buckets=LEG_BUCKETS,
)
messages_applied_total = Counter(
    "fbs_debitor_messages_applied_total", "Messages applied by a consumer", ["message_type"]
)
messages_failed_total = Counter(
    "fbs_debitor_messages_failed_total", "Failed deliveries (retried later)", ["message_type"]
)
messages_dead_total = Counter(
    "fbs_debitor_messages_dead_total", "Messages dead-lettered", ["message_type"]
)
