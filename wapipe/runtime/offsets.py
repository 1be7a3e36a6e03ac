"""Per-partition bookkeeping: the committable offset never passes an unfinished record."""

from __future__ import annotations

from collections import deque


class PartitionOffsets:
    """Offsets of one assigned partition in fetch order; `committable` is one past the finished prefix."""

    def __init__(self) -> None:
        self._pending: deque[list[int]] = deque()  # [offset, done]
        self._index: dict[int, list[int]] = {}
        self.committable: int | None = None
        self.last_committed: int | None = None
        self.last_dispatched = -1
        self.revoked = False

    def track(self, offset: int) -> bool:
        """Start tracking a fetched record; False if it was already seen (a redelivery within this assignment)."""
        if offset <= self.last_dispatched:
            return False
        self.last_dispatched = offset
        entry = [offset, 0]
        self._pending.append(entry)
        self._index[offset] = entry
        return True

    def done(self, offset: int) -> None:
        entry = self._index.pop(offset, None)
        if entry is None:
            return
        entry[1] = 1
        while self._pending and self._pending[0][1]:
            self.committable = self._pending.popleft()[0] + 1

    @property
    def unfinished(self) -> int:
        return len(self._index)

    def needs_commit(self) -> bool:
        return self.committable is not None and self.committable != self.last_committed
