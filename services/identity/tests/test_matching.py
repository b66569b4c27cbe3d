from dataclasses import replace
from datetime import date, datetime

import pytest

from services.identity.domain.blocking import blocking_keys
from services.identity.domain.match_scoring import score_pair
from services.identity.domain.matching import (
    BlockingConfig,
    MatchCandidate,
    MatchDecision,
    MatchResult,
    MatchThresholds,
    PersonRecord,
    build_merge_clusters,
    choose_survivor,
    find_duplicates,
)
from services.identity.domain.person_record import prepare_record
from services.identity.domain.sex import Sex
from services.identity.tests.synthetic_people import SyntheticDataSet, generate_data_set

AN = PersonRecord(
    record_id="a",
    full_name="Nguyễn Văn An",
    birth_date=date(2014, 3, 8),
    sex=Sex.MALE,
    personal_number="031214123456",
    birthplace="Phường Lê Chân, Hải Phòng",
    guardian_name="Nguyễn Văn Bình",
    source="hp-sector-db",
)


def pair_of(a: PersonRecord, b: PersonRecord) -> list[MatchCandidate]:
    return find_duplicates([a, b]).candidates


# --- scoring and decisions --------------------------------------------------------------


def test_exact_personal_number_and_birth_date_auto_merge() -> None:
    other = replace(AN, record_id="b", full_name="Trần Thị Bé", guardian_name=None, source="sms")
    [candidate] = pair_of(AN, other)
    assert candidate.decision is MatchDecision.AUTO_MERGE
    assert "same personal number" in candidate.reasons
    assert "same birth date" in candidate.reasons


def test_same_personal_number_with_another_birth_date_goes_to_review() -> None:
    other = replace(AN, record_id="b", birth_date=date(2016, 1, 1))
    [candidate] = pair_of(AN, other)
    assert candidate.decision is MatchDecision.REVIEW
    assert "different birth date" in candidate.reasons


def test_full_agreement_without_personal_number_auto_merges_with_reasons() -> None:
    first = replace(AN, personal_number=None)
    second = replace(first, record_id="b", full_name="Nguyen Van An", source="school-sms")
    [candidate] = pair_of(first, second)
    assert candidate == MatchCandidate(
        a="a",
        b="b",
        score=0.95,
        decision=MatchDecision.AUTO_MERGE,
        reasons=(
            "same birth date",
            "same sex",
            "same birthplace",
            "name similar 1.00",
            "same guardian",
        ),
    )


def test_name_and_birth_date_alone_only_make_a_review() -> None:
    first = replace(AN, personal_number=None, guardian_name=None, birthplace=None)
    second = replace(first, record_id="b")
    [candidate] = pair_of(first, second)
    assert candidate.decision is MatchDecision.REVIEW
    assert candidate.score == pytest.approx(0.75)


def test_different_personal_numbers_keep_namesakes_apart() -> None:
    other = replace(AN, record_id="b", personal_number="031214999999")
    assert pair_of(AN, other) == []


def test_twins_are_not_candidates() -> None:
    twin = replace(AN, record_id="b", full_name="Nguyễn Văn Bảo", personal_number="031214654321")
    assert pair_of(AN, twin) == []
    twin_without_numbers = replace(twin, personal_number=None)
    assert pair_of(replace(AN, personal_number=None), twin_without_numbers) == []


def test_near_duplicate_with_typo_and_date_slip_is_reviewed() -> None:
    typo = replace(
        AN,
        record_id="b",
        full_name="Nguyễn Vaăn An",
        birth_date=date(2014, 8, 3),
        personal_number=None,
    )
    [candidate] = pair_of(AN, typo)
    assert candidate.decision is MatchDecision.REVIEW
    assert "birth date one typing slip apart" in candidate.reasons


@pytest.mark.parametrize(
    ("other_date", "reason"),
    [
        (date(2014, 3, 9), "birth date one typing slip apart"),  # one digit
        (date(2014, 3, 7), "birth date one typing slip apart"),  # one day apart
        (date(2014, 8, 3), "birth date one typing slip apart"),  # day and month swapped
        (date(2041, 3, 8), "birth date one typing slip apart"),  # adjacent digits swapped
        (date(2014, 3, 28), "birth date one typing slip apart"),  # one digit (0 → 2)
        (date(2014, 5, 9), "different birth date"),  # two digits
        (date(2015, 3, 9), "different birth date"),
    ],
)
def test_birth_date_slips(other_date: date, reason: str) -> None:
    pair = score_pair(prepare_record(AN), prepare_record(replace(AN, birth_date=other_date)))
    assert pair is not None
    assert reason in pair.reasons


def test_swapped_name_order_is_found_through_blocking() -> None:
    swapped = replace(AN, record_id="b", full_name="An Nguyễn Văn", personal_number=None)
    [candidate] = pair_of(AN, swapped)
    assert candidate.decision is MatchDecision.AUTO_MERGE
    assert "name similar 0.95" in candidate.reasons


def test_score_pair_can_give_up_early() -> None:
    stranger = replace(
        AN,
        record_id="b",
        full_name="Lê Thị Hoa",
        birth_date=date(2010, 1, 1),
        personal_number=None,
    )
    a, b = prepare_record(AN), prepare_record(stranger)
    assert score_pair(a, b, give_up_below=0.7) is None
    full = score_pair(a, b)
    assert full is not None
    assert full.score == 0.0


def test_thresholds_are_parameters() -> None:
    first = replace(AN, personal_number=None, guardian_name=None, birthplace=None)
    second = replace(first, record_id="b")
    strict = find_duplicates(
        [first, second], thresholds=MatchThresholds(auto_merge=1.0, review=0.8)
    )
    assert strict.candidates == []
    lenient = find_duplicates([first, second], thresholds=MatchThresholds(auto_merge=0.7))
    assert lenient.candidates[0].decision is MatchDecision.AUTO_MERGE
    with pytest.raises(ValueError, match="thresholds"):
        MatchThresholds(auto_merge=0.5, review=0.6)


def test_record_ids_must_be_unique() -> None:
    with pytest.raises(ValueError, match="unique"):
        find_duplicates([AN, AN])


# --- blocking -------------------------------------------------------------------------------


def test_blocking_keys() -> None:
    assert blocking_keys(prepare_record(AN)) == (
        "pn:031214123456",
        "nd:an:20140308",
        "nd:nguyen:20140308",
        "fys:nguyen:2014:male",
    )


def test_oversized_block_uses_a_window_and_still_finds_the_duplicate() -> None:
    # 400 Nguyễn boys born in 2014 share one "fys" block, far above the exhaustive limit.
    given = ["An", "Bình", "Cường", "Dũng", "Đạt", "Hải", "Hùng", "Huy", "Khang", "Long"]
    middle = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Thành", "Gia", "Tuấn", "Bảo", "Xuân"]
    people = [
        PersonRecord(
            record_id=f"p{index:03d}",
            full_name=f"Nguyễn {middle[index // 40]} {given[index % 10]}",
            birth_date=date(2014, 1 + index % 12, 1 + index % 28),
            sex=Sex.MALE,
            birthplace="Hải Phòng",
        )
        for index in range(400)
    ]
    assert people[123].birth_date == date(2014, 4, 12)
    # Day and month swapped, so only the family + year + sex block can bring the two together.
    slipped = replace(people[123], record_id="dup", birth_date=date(2014, 12, 4))
    config = BlockingConfig(max_block_size=50, window=10)
    result = find_duplicates([*people, slipped], blocking=config)
    assert result.stats.oversized_blocks >= 1
    assert result.stats.compared_pairs <= len(people) * 3 * config.window
    found = {(c.a, c.b) for c in result.candidates}
    assert ("dup", "p123") in found


def test_blocking_config_validation() -> None:
    with pytest.raises(ValueError, match="at least 2"):
        BlockingConfig(window=1)


# --- the synthetic data set -----------------------------------------------------------------


@pytest.fixture(scope="module")
def synthetic() -> tuple[SyntheticDataSet, MatchResult]:
    data = generate_data_set(seed=2025, people=5_000, exact_duplicates=300, near_duplicates=300)
    return data, find_duplicates(data.records)


def test_synthetic_recall_and_precision(synthetic: tuple[SyntheticDataSet, MatchResult]) -> None:
    data, result = synthetic
    assert len(data.records) == 5_000 + 300 + 300 + 50
    assert len(data.true_pairs) == 600
    flagged = {frozenset((c.a, c.b)) for c in result.candidates}
    true_positives = len(flagged & data.true_pairs)
    recall = true_positives / len(data.true_pairs)
    precision = true_positives / len(flagged)
    assert recall >= 0.95, recall
    assert precision >= 0.95, precision
    assert not flagged & data.twin_pairs


def test_synthetic_comparisons_are_far_below_quadratic(
    synthetic: tuple[SyntheticDataSet, MatchResult],
) -> None:
    data, result = synthetic
    records = len(data.records)
    all_pairs = records * (records - 1) // 2
    assert result.stats.records == records
    # Linear: a few dozen comparisons per record at most, against 15.9 million pairs in all.
    assert result.stats.compared_pairs <= 20 * records
    assert result.stats.compared_pairs * 200 < all_pairs


def test_synthetic_auto_merges_are_all_true(
    synthetic: tuple[SyntheticDataSet, MatchResult],
) -> None:
    data, result = synthetic
    auto = [c for c in result.candidates if c.decision is MatchDecision.AUTO_MERGE]
    assert len(auto) >= 300  # every exact duplicate with a number or a guardian
    assert all(frozenset((c.a, c.b)) in data.true_pairs for c in auto)


def test_synthetic_clusters_are_pairs(synthetic: tuple[SyntheticDataSet, MatchResult]) -> None:
    data, result = synthetic
    clusters = build_merge_clusters(data.records, result.candidates).clusters
    assert clusters
    assert all(len(cluster.merged_ids) == 1 for cluster in clusters)


# --- merge clusters and survivors -----------------------------------------------------------


def record(record_id: str, **changes: object) -> PersonRecord:
    without_number = replace(AN, record_id=record_id, personal_number=None)
    return replace(without_number, **changes)  # type: ignore[arg-type]


def auto(a: str, b: str, score: float = 0.95) -> MatchCandidate:
    return MatchCandidate(a=a, b=b, score=score, decision=MatchDecision.AUTO_MERGE, reasons=())


def test_clusters_follow_chains_and_ignore_review_pairs() -> None:
    records = [record(name) for name in "abcdef"]
    candidates = [
        auto("a", "b"),
        auto("b", "c"),
        auto("d", "e"),
        MatchCandidate(a="e", b="f", score=0.8, decision=MatchDecision.REVIEW, reasons=()),
    ]
    result = build_merge_clusters(records, candidates)
    assert [(c.survivor_id, c.merged_ids) for c in result.clusters] == [
        ("a", ("b", "c")),
        ("d", ("e",)),
    ]
    assert result.refused == []


def test_clusters_never_join_two_personal_numbers() -> None:
    records = [
        record("a", personal_number="031214000001"),
        record("b"),
        record("c", personal_number="031214000002"),
    ]
    weaker = auto("b", "c", score=0.94)
    result = build_merge_clusters(records, [auto("a", "b", score=0.99), weaker])
    assert [(c.survivor_id, c.merged_ids) for c in result.clusters] == [("a", ("b",))]
    assert result.refused == [weaker]


def test_candidates_must_refer_to_known_records() -> None:
    with pytest.raises(ValueError, match="unknown record 'zz'"):
        build_merge_clusters([record("a")], [auto("a", "zz")])


def test_survivor_rule_order() -> None:
    early = datetime(2019, 1, 1)
    late = datetime(2024, 1, 1)
    verified = record("z", verified=True, created_at=late)
    numbered = record("y", personal_number="031214123456", created_at=late)
    earliest = record("x", created_at=early)
    no_date = record("a")
    same_time_smaller_id = record("w", created_at=early)
    # 1. verified beats everything
    assert choose_survivor([numbered, earliest, no_date, verified]) is verified
    # 2. then having a personal number
    assert choose_survivor([earliest, no_date, numbered]) is numbered
    # 3. then the earliest creation time; an unknown time counts as latest
    assert choose_survivor([no_date, earliest]) is earliest
    # 4. then the smallest record ID
    assert choose_survivor([earliest, same_time_smaller_id]) is same_time_smaller_id
    assert choose_survivor([record("b"), record("a")]).record_id == "a"
