"""Turning ``auto_merge`` pairs into merge clusters, each with one surviving record.

Pairs are joined with union-find, strongest score first. A join that would put two different
personal numbers into one cluster is refused and the pair is handed back for review: chains
such as A≈B, B≈C can otherwise merge two different citizens through a record in between.

Survivor rule, first difference wins:

1. verified against the national population database;
2. has a personal number;
3. created earliest (unknown creation time counts as latest);
4. smallest record ID (so the result is deterministic).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from services.identity.domain.match_scoring import MatchCandidate, MatchDecision
from services.identity.domain.person_record import PersonRecord, usable_personal_number


@dataclass(frozen=True, slots=True)
class MergeCluster:
    survivor_id: str
    merged_ids: tuple[str, ...]  # the other members, sorted; they are merged into the survivor


@dataclass(frozen=True, slots=True)
class ClusterResult:
    clusters: list[MergeCluster]
    refused: list[MatchCandidate]  # auto_merge pairs that would join different personal numbers


def survivor_rank(record: PersonRecord) -> tuple[bool, bool, bool, datetime, str]:
    """Sort key: the smallest rank survives (see the module docstring)."""
    return (
        not record.verified,
        usable_personal_number(record.personal_number) is None,
        record.created_at is None,
        record.created_at or datetime.min,
        record.record_id,
    )


def choose_survivor(records: Iterable[PersonRecord]) -> PersonRecord:
    return min(records, key=survivor_rank)


def build_merge_clusters(
    records: Iterable[PersonRecord], candidates: Iterable[MatchCandidate]
) -> ClusterResult:
    """Clusters of two or more records from the ``auto_merge`` candidates; others are ignored."""
    by_id = {record.record_id: record for record in records}
    sets = _DisjointSets()
    refused: list[MatchCandidate] = []
    auto_pairs = [c for c in candidates if c.decision is MatchDecision.AUTO_MERGE]
    for candidate in sorted(auto_pairs, key=lambda c: (-c.score, c.a, c.b)):
        for record_id in (candidate.a, candidate.b):
            if record_id not in by_id:
                raise ValueError(f"candidate refers to unknown record {record_id!r}")
            sets.add(record_id, usable_personal_number(by_id[record_id].personal_number))
        if not sets.union(candidate.a, candidate.b):
            refused.append(candidate)
    clusters = []
    for members in sets.groups():
        survivor = choose_survivor(by_id[record_id] for record_id in members)
        others = tuple(sorted(m for m in members if m != survivor.record_id))
        clusters.append(MergeCluster(survivor_id=survivor.record_id, merged_ids=others))
    clusters.sort(key=lambda cluster: cluster.survivor_id)
    return ClusterResult(clusters=clusters, refused=refused)


class _DisjointSets:
    """Union-find (path halving, union by size) that also tracks each set's personal numbers."""

    def __init__(self) -> None:
        self._parent: dict[str, str] = {}
        self._size: dict[str, int] = {}
        self._numbers: dict[str, frozenset[str]] = {}

    def add(self, item: str, personal_number: str | None) -> None:
        if item not in self._parent:
            self._parent[item] = item
            self._size[item] = 1
            self._numbers[item] = frozenset({personal_number} if personal_number else ())

    def find(self, item: str) -> str:
        parent = self._parent
        while parent[item] != item:
            parent[item] = parent[parent[item]]
            item = parent[item]
        return item

    def union(self, a: str, b: str) -> bool:
        """Join the sets of ``a`` and ``b``; False (and no change) if that mixes numbers."""
        root_a, root_b = self.find(a), self.find(b)
        if root_a == root_b:
            return True
        numbers = self._numbers[root_a] | self._numbers[root_b]
        if len(numbers) > 1:
            return False
        if self._size[root_a] < self._size[root_b]:
            root_a, root_b = root_b, root_a
        self._parent[root_b] = root_a
        self._size[root_a] += self._size[root_b]
        self._numbers[root_a] = numbers
        return True

    def groups(self) -> list[list[str]]:
        members: dict[str, list[str]] = {}
        for item in self._parent:
            members.setdefault(self.find(item), []).append(item)
        return [group for group in members.values() if len(group) > 1]
