"""Blocking: which record pairs are worth scoring at all.

Comparing every pair of a million records is 5·10¹¹ comparisons; instead each record gets a few
blocking keys and only records sharing a key are compared:

``pn``  the cleaned personal number, exact (catches any name or date difference);
``nd``  the first or the last name word + full birth date, one key each (given name + birth
        date, and family name + birth date, which still meet when the order is swapped or the
        given name has a typo);
``fys`` the family name + birth year + sex (catches a typo in the day or month).

A block of up to ``max_block_size`` records is compared pair by pair. A larger block (the
Nguyễn born in one year) would be quadratic, so it is sorted by name and each record is only
compared with the next ``window - 1`` records (sorted neighbourhood). Cost is therefore at most
about ``records × keys × max(max_block_size / 2, window)`` comparisons, linear in the input.

A pair sharing several small blocks is scored once, in the block whose key sorts first.
"""

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from services.identity.domain.person_record import PreparedRecord

DEFAULT_MAX_BLOCK_SIZE = 50
DEFAULT_WINDOW = 10


@dataclass(frozen=True, slots=True)
class BlockingConfig:
    """``max_block_size`` (default 50): largest block compared exhaustively.
    ``window`` (default 10): sorted-neighbourhood window used in larger blocks."""

    max_block_size: int = DEFAULT_MAX_BLOCK_SIZE
    window: int = DEFAULT_WINDOW

    def __post_init__(self) -> None:
        if self.max_block_size < 2 or self.window < 2:
            raise ValueError("max_block_size and window must be at least 2")


@dataclass(slots=True)
class BlockingStats:
    """Counts for monitoring; ``compared_pairs`` is what drives the running time."""

    records: int = 0
    blocks: int = 0
    oversized_blocks: int = 0
    compared_pairs: int = 0


def blocking_keys(prepared: PreparedRecord) -> tuple[str, ...]:
    keys: list[str] = []
    if prepared.personal_number is not None:
        keys.append(f"pn:{prepared.personal_number}")
    words = prepared.plain_name_words
    if words:
        birth_date = prepared.birth_date_digits
        keys.append(f"nd:{words[-1]}:{birth_date}")
        if len(words) > 1:
            keys.append(f"nd:{words[0]}:{birth_date}")
            record = prepared.record
            keys.append(f"fys:{words[0]}:{record.birth_date.year}:{record.sex.value}")
    return tuple(dict.fromkeys(keys))  # a one-word-repeated name must not list a key twice


def candidate_pairs(
    prepared: Sequence[PreparedRecord], config: BlockingConfig, stats: BlockingStats
) -> Iterator[tuple[int, int]]:
    """Index pairs ``(i, j)`` into ``prepared`` to score; updates ``stats`` as it goes."""
    stats.records = len(prepared)
    keys_per_record = [blocking_keys(record) for record in prepared]
    blocks = _blocks_with_pairs(keys_per_record)
    # Keys of the exhaustively compared blocks, per record, to decide which block owns a pair.
    small_keys = [
        frozenset(key for key in keys if len(blocks.get(key, ())) <= config.max_block_size)
        for keys in keys_per_record
    ]
    stats.blocks = len(blocks)
    for key, members in blocks.items():
        if len(members) <= config.max_block_size:
            pairs = _all_pairs_owned_by(key, members, small_keys)
        else:
            stats.oversized_blocks += 1
            pairs = _sorted_neighbourhood(members, prepared, small_keys, config.window)
        for pair in pairs:
            stats.compared_pairs += 1
            yield pair


def _blocks_with_pairs(keys_per_record: list[tuple[str, ...]]) -> dict[str, list[int]]:
    blocks: defaultdict[str, list[int]] = defaultdict(list)
    for index, keys in enumerate(keys_per_record):
        for key in keys:
            blocks[key].append(index)
    return {key: members for key, members in blocks.items() if len(members) > 1}


def _all_pairs_owned_by(
    key: str, members: list[int], small_keys: list[frozenset[str]]
) -> Iterator[tuple[int, int]]:
    for position, i in enumerate(members):
        keys_i = small_keys[i]
        for j in members[position + 1 :]:
            shared = keys_i & small_keys[j]
            if len(shared) == 1 or min(shared) == key:
                yield i, j


def _sorted_neighbourhood(
    members: list[int],
    prepared: Sequence[PreparedRecord],
    small_keys: list[frozenset[str]],
    window: int,
) -> Iterator[tuple[int, int]]:
    # Given name first, then the rest, then the date: near-identical records end up adjacent.
    def sort_key(index: int) -> tuple[tuple[str, ...], str]:
        record = prepared[index]
        return tuple(reversed(record.plain_name_words)), record.birth_date_digits

    ordered = sorted(members, key=sort_key)
    for position, i in enumerate(ordered):
        for j in ordered[position + 1 : position + window]:
            # Pairs that also share a small block are compared there. Pairs meeting in two
            # oversized blocks may be yielded twice; the caller de-duplicates candidates.
            if not small_keys[i] & small_keys[j]:
                yield (i, j) if i < j else (j, i)
