"""Throughput of duplicate detection on synthetic records (a script, not a test).

    python -m services.identity.tests.bench_matching [people] [birth_days]

``birth_days`` spreads the birth dates; the real merged province has about a million learners
born over some 16 years, about 170 per day. With 100,000 people over the default 15 years the
blocks are ten times thinner than that, so the script also runs a dense variant with the same
number of people per birth date as a million learners (``birth_days`` = 16·365 / 10).
"""

import sys
import time

from services.identity.domain.matching import MatchDecision, find_duplicates
from services.identity.tests.synthetic_people import BIRTH_DAYS, generate_data_set


def run(people: int, birth_days: int) -> None:
    started = time.perf_counter()
    data = generate_data_set(
        seed=7,
        people=people,
        exact_duplicates=people * 3 // 100,
        near_duplicates=people * 3 // 100,
        twins=people // 100,
        birth_days=birth_days,
    )
    generated = time.perf_counter()
    result = find_duplicates(data.records)
    matched = time.perf_counter()

    found = {frozenset((c.a, c.b)) for c in result.candidates}
    true_found = len(found & data.true_pairs)
    seconds = matched - generated
    records = len(data.records)
    print(
        f"records {records:,} over {birth_days:,} birth days (generated in "
        f"{generated - started:.1f} s)"
    )
    print(
        f"  matching {seconds:.1f} s = {records / seconds:,.0f} records/s, "
        f"{result.stats.compared_pairs / seconds:,.0f} pairs/s"
    )
    print(f"  {result.stats}")
    print(
        f"  compared pairs per record {result.stats.compared_pairs / records:.1f}; "
        f"all pairs would be {records * (records - 1) // 2:,}"
    )
    auto = sum(c.decision is MatchDecision.AUTO_MERGE for c in result.candidates)
    print(
        f"  candidates {len(result.candidates):,} (auto {auto:,}); recall "
        f"{true_found / len(data.true_pairs):.4f}, precision {true_found / len(found):.4f}"
    )
    print(f"  extrapolated to 1,000,000 records: {1_000_000 / records * seconds / 60:.1f} min")


def main() -> None:
    people = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    if len(sys.argv) > 2:
        run(people, int(sys.argv[2]))
        return
    run(people, BIRTH_DAYS)
    run(people, 16 * 365 * people // 1_000_000)


if __name__ == "__main__":
    main()
