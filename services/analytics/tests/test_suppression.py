"""Disclosure control: hand-made tables for each rule, then random tables against the auditor.

Grids are written with their totals: the last column holds the row totals, the last row the
column totals and the grand total. Cells are (row, column) in that grid.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.analytics.domain.suppression import (
    AuditReport,
    CountList,
    CountTable,
    Reason,
    SuppressedTable,
    SuppressionRules,
    audit_list,
    audit_table,
    cells_without_protection,
    isolated_cells,
    suppress_list,
    suppress_table,
)


def hide(table: CountTable, cells: set[tuple[int, int]]) -> SuppressedTable:
    """A published grid with exactly these cells hidden (to audit patterns chosen by hand)."""
    grid = table.grid()
    return SuppressedTable(
        table.row_labels,
        table.column_labels,
        tuple(
            tuple(None if (r, k) in cells else value for k, value in enumerate(row))
            for r, row in enumerate(grid)
        ),
    )


def by_reason(published: SuppressedTable, reason: Reason) -> set[tuple[int, int]]:
    return {cell for cell, why in published.reasons.items() if why.reason is reason}


def assert_every_line_has_two_hidden_or_none(published: SuppressedTable) -> None:
    grid = published.grid
    for row in grid:
        assert sum(value is None for value in row) != 1
    for k in range(len(grid[0])):
        assert sum(row[k] is None for row in grid) != 1


# --------------------------------------------------------------------------- primary


def test_primary_hides_counts_under_the_threshold_and_publishes_zeros() -> None:
    #   c0  c1  c2 | total
    #    3  25  30 |  58
    #   20  15  40 |  75
    #   12   0  22 |  34
    #   35  40  92 | 167
    table = CountTable.of([[3, 25, 30], [20, 15, 40], [12, 0, 22]])
    published = suppress_table(table)
    assert by_reason(published, Reason.PRIMARY) == {(0, 0)}
    assert published.reasons[(0, 0)].why == "count 3 is below 10"
    assert published.cells[2][1] == 0  # a true zero is published by default
    assert published.grand_total == 167
    # 10 is not "under 10"
    assert suppress_table(CountTable.of([[10, 10], [10, 10]])).suppressed == frozenset()


def test_zeros_are_suppressed_when_the_rules_say_so() -> None:
    table = CountTable.of([[0, 25, 30], [20, 15, 40], [12, 18, 22]])
    assert suppress_table(table).suppressed == frozenset()
    published = suppress_table(table, SuppressionRules(suppress_zeros=True))
    assert by_reason(published, Reason.PRIMARY) == {(0, 0)}
    assert published.reasons[(0, 0)].why == "zero counts are suppressed for this table"
    assert not audit_table(published).recoverable()


def test_a_small_total_is_suppressed_like_a_cell() -> None:
    #   c0  c1 | total
    #    4   3 |   7   <- row total 7 is itself under 10
    #   30  40 |  70
    #   34  43 |  77
    published = suppress_table(CountTable.of([[4, 3], [30, 40]]))
    assert by_reason(published, Reason.PRIMARY) == {(0, 0), (0, 1), (0, 2)}
    assert published.row_totals[0] is None
    assert not audit_table(published).recoverable()


def test_the_threshold_is_a_parameter() -> None:
    table = CountTable.of([[4, 30], [30, 40]])
    assert (0, 0) in suppress_table(table).suppressed
    assert suppress_table(table, SuppressionRules(threshold=3)).suppressed == frozenset()


# --------------------------------------------------------------------------- complementary


def test_complements_in_row_and_column_are_the_smallest_counts() -> None:
    #   c0  c1  c2 | total
    #    3  25  30 |  58     row 0: 25 is the smallest published count -> hidden
    #   20  15  40 |  75     column 0: 12 is the smallest -> hidden
    #   12  18  22 |  52     then column 1 needs a second one: 15 < 18; row 2 needs one: 18;
    #   35  58  92 | 185     row 1 needs one: 20. Every row/column with a hidden cell has two.
    table = CountTable.of([[3, 25, 30], [20, 15, 40], [12, 18, 22]])
    published = suppress_table(table)
    assert by_reason(published, Reason.PRIMARY) == {(0, 0)}
    assert by_reason(published, Reason.SECONDARY) == {(0, 1), (2, 0), (1, 1), (2, 1), (1, 0)}
    assert published.reasons[(0, 1)].why == (
        "second hidden cell in row 'r0', which would otherwise reveal cell (r0, c0)"
    )
    assert published.row_totals == (58, 75, 52)  # totals stay published
    assert published.column_totals == (35, 58, 92)
    assert_every_line_has_two_hidden_or_none(published)
    assert not audit_table(published).recoverable()


def test_a_single_complement_would_leave_the_cell_recoverable() -> None:
    # The eight small counts are hidden (primary). Every row and column holding one holds two,
    # yet the 3 in (r0, c0) is a bridge between two separate rectangles of hidden cells:
    #
    #    3*  4*  6*  50 |  63      rows 0 and 2: x00 + x01 + x02 + x21 + x22 = 13 + 13 = 26
    #    2*  40  60  7* | 109      column 1: x01 + x21 = 129 - 40 - 80 = 9
    #    30  5*  8*  70 | 113      column 2: x02 + x22 = 164 - 60 - 90 = 14
    #    9*  80  90  1* | 180      so x00 = 26 - 9 - 14 = 3, exactly.
    #    44 129 164 128 | 465
    table = CountTable.of([[3, 4, 6, 50], [2, 40, 60, 7], [30, 5, 8, 70], [9, 80, 90, 1]])
    primary = {(0, 0), (0, 1), (0, 2), (1, 0), (1, 3), (2, 1), (2, 2), (3, 0), (3, 3)}
    naive = hide(table, primary)
    assert_every_line_has_two_hidden_or_none(naive)
    assert isolated_cells(naive) == [(0, 0)]
    report = audit_table(naive)
    assert report.intervals is not None
    assert report.intervals[(0, 0)].lower == report.intervals[(0, 0)].upper == 3
    assert report.recoverable() == [(0, 0)]

    published = suppress_table(table)
    assert by_reason(published, Reason.PRIMARY) == primary
    # The cheapest way to put (r0, c0) on a cycle: hide the 30 that joins column 0 to row 2.
    assert by_reason(published, Reason.SECONDARY) == {(2, 0)}
    assert published.reasons[(2, 0)].why == (
        "closes a cycle of hidden cells that protects cell (r0, c0)"
    )
    audit = audit_table(published)
    assert audit.isolated == ()
    assert audit.recoverable() == []
    assert audit.intervals is not None
    assert audit.intervals[(0, 0)].lower == 0 and audit.intervals[(0, 0)].upper == 13


def test_hidden_zeros_cannot_protect_a_cell() -> None:
    # A rectangle of hidden cells is no cycle-breaker by rank, but its complements are zeros:
    #    5*  0*  20 |  25      column 1: x01 + x11 = 50 - 50 = 0, so both are 0,
    #    0*  0*  30 |  30      and x00 = 25 - 20 - x01 = 5.
    #   40  50   60 | 150
    #   45  50  110 | 205
    table = CountTable.of([[5, 0, 20], [0, 0, 30], [40, 50, 60]])
    rectangle = hide(table, {(0, 0), (0, 1), (1, 0), (1, 1)})
    assert isolated_cells(rectangle) == []
    assert audit_table(rectangle).recoverable() == [(0, 0), (0, 1), (1, 0), (1, 1)]
    assert cells_without_protection(table, rectangle.suppressed) == [
        (0, 0),
        (0, 1),
        (1, 0),
        (1, 1),
    ]
    assert audit_table(suppress_table(table)).recoverable() == []


def test_feasible_intervals_hold_the_true_value() -> None:
    table = CountTable.of([[3, 25, 30], [20, 15, 40], [12, 18, 22]])
    report = audit_table(suppress_table(table))
    grid = table.grid()
    assert report.intervals is not None
    for (r, k), interval in report.intervals.items():
        assert interval.lower <= grid[r][k]
        assert interval.upper is None or grid[r][k] <= interval.upper
        assert interval.width >= 1


def test_a_larger_protection_widens_every_interval() -> None:
    table = CountTable.of([[3, 25, 30], [20, 1, 40], [12, 18, 22]])
    for protection in (1, 3, 5):
        published = suppress_table(table, SuppressionRules(protection=protection))
        assert audit_table(published).recoverable(protection) == []


# --------------------------------------------------------------------------- one dimension


def test_a_list_hides_the_smallest_other_count_with_a_small_one() -> None:
    published = suppress_list(CountList(("a", "b", "c"), (3, 12, 40)))
    assert published.values == (None, None, 40)
    assert published.total == 55
    assert published.reasons[0].reason is Reason.PRIMARY
    assert published.reasons[1].reason is Reason.SECONDARY
    report = audit_list(published)
    assert report.intervals is not None
    assert {cell: (i.lower, i.upper) for cell, i in report.intervals.items()} == {
        (0, 0): (0, 15),
        (0, 1): (0, 15),
    }


def test_a_list_prefers_a_non_zero_complement() -> None:
    # Hiding a 0 next to the 4 would tell nothing new: 4 + 0 = total - 30.
    published = suppress_list(CountList(("a", "b", "c", "d"), (4, 0, 0, 30)))
    assert published.values == (None, 0, 0, None)
    assert audit_list(published).recoverable() == []


def test_two_small_counts_protect_each_other() -> None:
    published = suppress_list(CountList(("a", "b", "c"), (3, 4, 50)))
    assert published.values == (None, None, 50)
    assert {why.reason for why in published.reasons.values()} == {Reason.PRIMARY}
    assert audit_list(published).recoverable() == []


def test_a_list_with_a_small_total_hides_the_total() -> None:
    published = suppress_list(CountList(("a", "b"), (5, 0)))
    assert published.values == (None, 0)
    assert published.total is None
    report = audit_list(published)
    assert report.intervals is not None and report.intervals[(0, 0)].upper is None


# --------------------------------------------------------------------------- properties

counts = st.one_of(st.sampled_from([0, 0, 1, 2, 3, 5, 9, 10]), st.integers(0, 60))
tables = st.integers(1, 4).flatmap(
    lambda n_rows: st.integers(1, 4).flatmap(
        lambda n_columns: st.lists(
            st.lists(counts, min_size=n_columns, max_size=n_columns),
            min_size=n_rows,
            max_size=n_rows,
        )
    )
)


@settings(max_examples=150, deadline=None)
@given(tables, st.booleans(), st.sampled_from([1, 1, 2]))
def test_no_suppressed_cell_of_a_random_table_is_recoverable(
    rows: list[list[int]], suppress_zeros: bool, protection: int
) -> None:
    table = CountTable.of(rows)
    rules = SuppressionRules(suppress_zeros=suppress_zeros, protection=protection)
    published = suppress_table(table, rules)
    grid = table.grid()
    for r, row in enumerate(grid):
        for k, value in enumerate(row):
            if rules.is_sensitive(value):
                assert published.grid[r][k] is None
            if published.grid[r][k] is not None:
                assert published.grid[r][k] == value
    report: AuditReport = audit_table(published)
    assert report.isolated == ()
    assert report.recoverable(protection) == []
    assert report.intervals is not None
    for (r, k), interval in report.intervals.items():
        assert interval.lower <= grid[r][k]
        assert interval.upper is None or grid[r][k] <= interval.upper


@settings(max_examples=150, deadline=None)
@given(tables, st.data())
def test_the_cycle_check_agrees_with_the_linear_programs(
    rows: list[list[int]], data: st.DataObject
) -> None:
    # Any hidden pattern, not only ours: the publisher-side cycle check and the intruder-side
    # LP must name the same recoverable cells (exact for protection 1, module docstring).
    table = CountTable.of(rows)
    grid = table.grid()
    cells = [(r, k) for r in range(len(grid)) for k in range(len(grid[0]))]
    hidden = set(data.draw(st.lists(st.sampled_from(cells), min_size=1, unique=True)))
    published = hide(table, hidden)
    assert cells_without_protection(table, hidden) == audit_table(published).recoverable()
    assert set(isolated_cells(published)) <= set(audit_table(published).recoverable())


@settings(max_examples=100, deadline=None)
@given(st.lists(counts, min_size=1, max_size=8), st.booleans())
def test_no_suppressed_count_of_a_random_list_is_recoverable(
    values: list[int], suppress_zeros: bool
) -> None:
    counts_list = CountList(tuple(f"k{i}" for i in range(len(values))), tuple(values))
    published = suppress_list(counts_list, SuppressionRules(suppress_zeros=suppress_zeros))
    assert audit_list(published).recoverable() == []
    shown = [v for v in published.values if v is not None]
    assert all(v >= 10 or (v == 0 and not suppress_zeros) for v in shown)
