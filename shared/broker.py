"""FastStream's Kafka broker, with its subscribers started together.

aiokafka's `consumer.start()` returns only when the consumer's group has given it partitions,
and FastStream starts subscribers one after another, so a service waited for each of its
consumer groups to rebalance in turn: about 5 s per member on the embedded broker, 30 s for
analytics' seven groups, and minutes when replicas joined at once and each join rebalanced the
groups the others had already settled. Started together, the joins overlap.
"""

from __future__ import annotations

import asyncio

from faststream.kafka import KafkaBroker


class ServiceBroker(KafkaBroker):
    async def start(self) -> None:
        # FastStream's own start, with the subscriber loop made concurrent (its publishers
        # start instantly and stay in order).
        await self.connect()
        await asyncio.gather(*(subscriber.start() for subscriber in self.subscribers))
        for publisher in self.publishers:
            await publisher.start()
        self.running = True
