"""Message ids: UUID version 7 text, unique, growing with time, and new in a forked child."""

from __future__ import annotations

import os
import uuid

from fbs_debitor.messaging.outbox import new_message_id


def test_ids_are_version_7_uuids_in_the_order_they_were_made() -> None:
    ids = [new_message_id() for _ in range(20000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    parsed = uuid.UUID(ids[0])
    assert str(parsed) == ids[0]
    assert parsed.version == 7
    assert parsed.variant == uuid.RFC_4122


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next ids to the parent and leave at once
        os.close(read)
        os.write(write, ",".join(new_message_id() for _ in range(100)).encode())
        os._exit(0)
    os.close(write)
    ours = {new_message_id() for _ in range(100)}
    with os.fdopen(read) as pipe:
        theirs = set(pipe.read().split(","))
    os.waitpid(pid, 0)
    assert len(theirs) == 100
    assert not ours & theirs
    tails = {i[-12:] for i in ours} | {i[-12:] for i in theirs}
    assert len(tails) == 200, "parent and child count from different random starts"
