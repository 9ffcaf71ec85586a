"""Exactly-once messaging between contexts on the shared database.

* :func:`~fbs_debitor.messaging.outbox.publish` writes a message to the outbox **in the sender's
  transaction**;
* the :class:`~fbs_debitor.messaging.worker.Worker` claims pending outbox rows (``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL), and for every consumer subscribed on the
  :class:`~fbs_debitor.messaging.router.Router` records ``(consumer, message_id)`` in the inbox **in
  the same transaction as the handler's effect**, so a redelivered message changes nothing;
* messages that carry an ``ordering_key`` and ``sequence`` are applied in sequence order per
  consumer; one that arrives early waits;
* failures are retried with exponential backoff and dead-lettered after ``max_attempts``;
* wall-clock ``enqueued_at`` / ``sent_at`` / ``applied_at`` give every leg's delay.
"""
