"""The worker's request reader must not lose messages that arrive together."""

from __future__ import annotations

import os

from judge.runtime.wire import MessageReader, send_message


def test_several_messages_in_one_read_are_all_delivered() -> None:
    read_end, write_end = os.pipe()
    try:
        for number in range(5):  # small enough to sit in the pipe together
            send_message(write_end, {"op": "load", "n": number})
        os.close(write_end)
        write_end = -1
        reader = MessageReader(read_end)
        received = [reader.read() for _ in range(5)]
        assert [m["n"] for m in received if m] == [0, 1, 2, 3, 4]
        assert reader.read() is None  # end of file, nothing left over
    finally:
        os.close(read_end)
        if write_end >= 0:
            os.close(write_end)
