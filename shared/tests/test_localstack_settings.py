"""The embedded PostgreSQL's buffer cache follows the machine's memory, within bounds."""

from __future__ import annotations

from shared.localstack.postgres import shared_buffers_mb

GIB = 2**30


def test_a_quarter_of_the_memory_between_128_mb_and_1_gb():
    assert shared_buffers_mb(2 * GIB) == 512
    assert shared_buffers_mb(24 * GIB) == 1024
    assert shared_buffers_mb(256 * 2**20) == 128


def test_this_machine_gets_a_value_within_the_bounds():
    assert 128 <= shared_buffers_mb() <= 1024
