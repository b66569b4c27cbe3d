"""Duplicate detection over person records: blocking, pair scoring, decisions, merge clusters.

Entry points:

- :func:`find_duplicates` records → :class:`MatchResult` (candidates with decision
  ``auto_merge`` or ``review``, plus blocking statistics). Work grows linearly with the number
  of records (see :mod:`blocking`), so a million records take minutes, not days.
- :func:`build_merge_clusters` turns the ``auto_merge`` candidates into clusters with a
  survivor (see :mod:`merge_clusters` for the survivor rule).

Thresholds (:class:`MatchThresholds`) default to ``auto_merge`` 0.93 and ``review`` 0.70; the
scoring points are documented in :mod:`match_scoring`.
"""

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from services.identity.domain.blocking import BlockingConfig, BlockingStats, candidate_pairs
from services.identity.domain.match_scoring import (
    EvidenceWeights,
    MatchCandidate,
    MatchDecision,
    MatchThresholds,
    decide,
    score_pair,
)
from services.identity.domain.merge_clusters import (
    ClusterResult,
    MergeCluster,
    build_merge_clusters,
    choose_survivor,
)
from services.identity.domain.person_record import PersonRecord, prepare_record

__all__ = [
    "BlockingConfig",
    "BlockingStats",
    "ClusterResult",
    "EvidenceWeights",
    "MatchCandidate",
    "MatchDecision",
    "MatchResult",
    "MatchThresholds",
    "MergeCluster",
    "PersonRecord",
    "build_merge_clusters",
    "choose_survivor",
    "find_duplicates",
]


@dataclass(frozen=True, slots=True)
class MatchResult:
    candidates: list[MatchCandidate]  # best score first
    stats: BlockingStats


def find_duplicates(
    records: Iterable[PersonRecord],
    *,
    thresholds: MatchThresholds = MatchThresholds(),
    blocking: BlockingConfig = BlockingConfig(),
    weights: EvidenceWeights = EvidenceWeights(),
) -> MatchResult:
    """Candidate duplicate pairs among ``records``; record IDs must be unique."""
    prepared = [prepare_record(record) for record in records]
    _require_unique_ids([p.record.record_id for p in prepared])
    stats = BlockingStats()
    found: dict[tuple[str, str], MatchCandidate] = {}
    for i, j in candidate_pairs(prepared, blocking, stats):
        pair = score_pair(prepared[i], prepared[j], weights, give_up_below=thresholds.review)
        decision = None if pair is None else decide(pair, thresholds)
        if pair is None or decision is None:
            continue
        a, b = sorted((prepared[i].record.record_id, prepared[j].record.record_id))
        found[(a, b)] = MatchCandidate(
            a=a, b=b, score=round(pair.score, 4), decision=decision, reasons=pair.reasons
        )
    candidates = sorted(found.values(), key=lambda c: (-c.score, c.a, c.b))
    return MatchResult(candidates=candidates, stats=stats)


def _require_unique_ids(record_ids: list[str]) -> None:
    repeated = sorted(record_id for record_id, count in Counter(record_ids).items() if count > 1)
    if repeated:
        raise ValueError(f"record IDs must be unique; repeated: {repeated[:10]}")
