"""Isolating the records that fail: a batch whose transaction fails for a reason that is not
transient is applied again in halves, down to the bad records, which are dead-lettered. One bad
record costs a few transactions rather than one per record, and cannot stop a projection."""

import logging
from collections.abc import Mapping, Sequence

from etalase_platform.dead_letters import DeadLetters
from etalase_platform.decoding import Poison
from etalase_platform.delivery import Delivery
from etalase_platform.offsets import Partition
from etalase_platform.retry import retrying
from etalase_platform.store import ConsumerStore

log = logging.getLogger(__name__)


class Isolating:
    def __init__(self, store: ConsumerStore, dead_letters: DeadLetters, *, consumer: str) -> None:
        self._store = store
        self._dead_letters = dead_letters
        self._name = consumer

    async def apply(
        self,
        deliveries: Sequence[Delivery],
        next_offsets: Mapping[Partition, int],
        traced: Sequence[Delivery] | None = None,
    ) -> None:
        """Applies the batch and stores its offsets; if it fails, isolates the bad records
        first, then stores the offsets alone."""
        try:
            await retrying(lambda: self._store.apply(deliveries, next_offsets, traced), self._name)
        except Exception as error:
            log.warning("%s: batch failed (%r); isolating the bad records", self._name, error)
            await self._bisect(deliveries)
            await retrying(lambda: self._store.apply([], next_offsets), self._name)

    async def _bisect(self, deliveries: Sequence[Delivery]) -> None:
        """Applies the halves of a failed batch in order."""
        if len(deliveries) == 1:
            await self._apply_or_reject(deliveries[0])
            return
        try:
            await retrying(lambda: self._store.apply(deliveries, {}), self._name)
        except Exception:
            middle = len(deliveries) // 2
            await self._bisect(deliveries[:middle])
            await self._bisect(deliveries[middle:])

    async def _apply_or_reject(self, delivery: Delivery) -> None:
        try:
            await retrying(lambda: self._store.apply([delivery], {}), self._name)
        except Exception as error:
            log.error("%s: dead-lettering %s: %r", self._name, delivery.event_id, error)
            reason = f"{type(error).__name__}: {error}"
            await self._dead_letters.send([Poison(delivery.record, reason)])
