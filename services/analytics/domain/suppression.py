"""Statistical disclosure control for published count tables (pure logic, no IO).

Law 91/2025/QH15 treats children's and health data as sensitive; DOMAIN.md ("Privacy") asks
published statistics to suppress cells under 10 and to add complementary suppressions so that no
hidden cell can be recovered from the published totals.

The table model.  A table of counts (rows x columns) is always published with its row totals,
column totals and grand total. We work on the *extended grid*: the counts plus one more column
(row totals) and one more row (column totals, grand total in the corner). A cell is addressed by
``(row, column)`` in that grid, so ``(rows, k)`` is the total of column ``k``. Every line of the
grid is one published equation: the cells of a row add up to its last cell, the cells of a column
add up to its last cell. A one-dimensional list with a total is the one-row case (see
``suppress_list``).

1. Primary suppression.  A cell (totals included: a small total is as disclosive as a small
   cell) is hidden when ``0 < count < threshold``. Zeros are published by default: in education
   and health statistics a true zero ("no pupil in this commune is obese") is usually
   publishable and hiding it costs information; set ``suppress_zeros`` where a zero is itself
   sensitive (it reveals that *every* child has the other attribute).
2. Complementary suppression, line rule.  Every line holding a hidden cell must hold at least two,
   otherwise the hidden cell is its total minus the published cells. We add the smallest
   non-zero published count of the line (least information lost; a zero is a poor complement
   because it cannot go down), counts before totals, and repeat until nothing changes.
3. Complementary suppression, cycle rule.  The line rule is necessary, not sufficient: a hidden
   cell can still be isolated by adding and subtracting several line equations (a "bridge" in
   the pattern), or pinned by non-negativity (a hidden 0 cannot go down). We therefore check
   every hidden cell for an *alternating cycle* of hidden cells along which it can move by
   ``protection`` while all published values stay the same and no count goes negative, and where
   none exists we add the cheapest published cells that close such a cycle.

Why the cycle check is exact.  With the sign of totals flipped, every line of the grid sums to
zero, so the differences between two tables with the same published values are circulations
on the bipartite graph "row -- hidden cell -- column". Such a difference decomposes into
cycles that agree with it in sign (conformal decomposition); the constraint matrix is totally
unimodular, so the extreme values of a hidden cell are integers. Hence a hidden cell's feasible
interval has width >= 1 exactly when a unit move along one alternating cycle is feasible. For
``protection`` > 1 the check is sufficient (a move by ``protection`` along one cycle), not
necessary. ``audit_table`` gives the exact intervals by linear programming, from the published
values only, as an intruder would compute them.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

DEFAULT_THRESHOLD = 10  # DOMAIN.md "Privacy": suppress cells under 10
MAX_EXACT_AUDIT_SIZE = 20  # rows and columns up to which audit_table solves the LPs

Cell = tuple[int, int]  # (row, column) in the extended grid; the last row/column are totals


class Reason(StrEnum):
    PRIMARY = "primary"  # the count itself is small
    SECONDARY = "secondary"  # hidden to protect another hidden cell


@dataclass(frozen=True)
class Suppression:
    reason: Reason
    why: str  # in words, for the Department: which rule hid this cell


@dataclass(frozen=True)
class SuppressionRules:
    threshold: int = DEFAULT_THRESHOLD
    suppress_zeros: bool = False  # see module docstring: a true zero is usually publishable
    # How far an intruder must remain from pinning a hidden cell down: every hidden cell can take
    # at least `protection` other values consistent with what is published.
    protection: int = 1

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.protection < 1:
            raise ValueError("threshold and protection must be at least 1")

    def is_sensitive(self, count: int) -> bool:
        return 0 < count < self.threshold or (count == 0 and self.suppress_zeros)


# --------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class CountTable:
    """Counts by row and column; the totals are derived, so they always add up."""

    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    def __post_init__(self) -> None:
        if not self.row_labels or not self.column_labels:
            raise ValueError("a table needs at least one row and one column")
        if len(self.counts) != len(self.row_labels) or any(
            len(row) != len(self.column_labels) for row in self.counts
        ):
            raise ValueError("counts do not match the row and column labels")
        if any(count < 0 for row in self.counts for count in row):
            raise ValueError("counts cannot be negative")

    @classmethod
    def of(cls, counts: Sequence[Sequence[int]]) -> CountTable:
        """A table with labels r0, r1, ... and c0, c1, ... (for tests and quick use)."""
        return cls(
            tuple(f"r{i}" for i in range(len(counts))),
            tuple(f"c{k}" for k in range(len(counts[0]) if counts else 0)),
            tuple(tuple(row) for row in counts),
        )

    def grid(self) -> list[list[int]]:
        """The extended grid: counts, row totals in the last column, column totals last."""
        rows = [[*row, sum(row)] for row in self.counts]
        totals = [sum(row[k] for row in rows) for k in range(len(self.column_labels) + 1)]
        return [*rows, totals]


@dataclass(frozen=True)
class SuppressedTable:
    """What may be published: the extended grid with hidden cells as None."""

    row_labels: tuple[str, ...]
    column_labels: tuple[str, ...]
    grid: tuple[tuple[int | None, ...], ...]  # (rows + 1) x (columns + 1), totals last
    reasons: Mapping[Cell, Suppression] = field(default_factory=dict)

    @property
    def cells(self) -> tuple[tuple[int | None, ...], ...]:
        return tuple(row[:-1] for row in self.grid[:-1])

    @property
    def row_totals(self) -> tuple[int | None, ...]:
        return tuple(row[-1] for row in self.grid[:-1])

    @property
    def column_totals(self) -> tuple[int | None, ...]:
        return self.grid[-1][:-1]

    @property
    def grand_total(self) -> int | None:
        return self.grid[-1][-1]

    @property
    def suppressed(self) -> frozenset[Cell]:
        return frozenset(
            (r, k)
            for r, row in enumerate(self.grid)
            for k, value in enumerate(row)
            if value is None
        )


@dataclass(frozen=True)
class CountList:
    """A one-dimensional table: counts by category, published with their total."""

    labels: tuple[str, ...]
    counts: tuple[int, ...]

    def __post_init__(self) -> None:
        if not self.labels or len(self.labels) != len(self.counts):
            raise ValueError("counts do not match the labels")
        if any(count < 0 for count in self.counts):
            raise ValueError("counts cannot be negative")


@dataclass(frozen=True)
class SuppressedList:
    labels: tuple[str, ...]
    values: tuple[int | None, ...]
    total: int | None
    reasons: Mapping[int, Suppression] = field(default_factory=dict)  # index len(labels): total


# --------------------------------------------------------------------------- cycles


def _sign(grid_shape: tuple[int, int], cell: Cell) -> int:
    """+1 for counts and the grand total, -1 for row and column totals.

    With these signs every line of the grid sums to zero, which turns "same published values"
    into "the difference is a circulation" (module docstring)."""
    last_row, last_column = grid_shape[0] - 1, grid_shape[1] - 1
    return -1 if (cell[0] == last_row) != (cell[1] == last_column) else 1


CostOf = Callable[[Cell], float | None]  # None: the cell may not be used in a cycle


def _cheapest_cycle(
    values: Sequence[Sequence[int]],
    target: Cell,
    step: int,
    cost_of: CostOf,
    *,
    bounded: bool = True,
) -> list[Cell] | None:
    """The other cells of the cheapest alternating cycle that moves ``target`` by ``step``.

    A cycle alternates row -> column (the cell's signed value rises) and column -> row (it
    falls). Moving along it changes each cell by +-|step|; a cell that falls must hold at least
    |step| unless ``bounded`` is off (rank-only reasoning). Dijkstra over the row and column
    nodes; the target's own edge is excluded."""
    n_rows, n_columns = len(values), len(values[0])
    shape = (n_rows, n_columns)
    amount = abs(step) if bounded else 0
    if step < 0 and values[target[0]][target[1]] < amount:
        return None
    flow = 1 if step * _sign(shape, target) > 0 else -1  # target's edge direction in the cycle
    # Nodes: rows 0..n_rows-1, columns n_rows..n_rows+n_columns-1. The rest of the cycle runs
    # from the far end of the target's edge back to its near end.
    row_node, column_node = target[0], n_rows + target[1]
    start, goal = (column_node, row_node) if flow > 0 else (row_node, column_node)

    def arcs(node: int) -> list[tuple[Cell, int]]:
        if node < n_rows:  # row -> column: flow +1
            return [((node, k), n_rows + k) for k in range(n_columns)]
        k = node - n_rows  # column -> row: flow -1
        return [((r, k), r) for r in range(n_rows)]

    best: dict[int, float] = {start: 0.0}
    came_from: dict[int, tuple[int, Cell]] = {}
    queue: list[tuple[float, int]] = [(0.0, start)]
    done: set[int] = set()
    while queue:
        distance, node = heapq.heappop(queue)
        if node in done:
            continue
        done.add(node)
        if node == goal:
            break
        for cell, neighbour in arcs(node):
            if cell == target or neighbour in done:
                continue
            cost = cost_of(cell)
            if cost is None:
                continue
            cell_flow = 1 if node < n_rows else -1
            falls = cell_flow * _sign(shape, cell) < 0
            if falls and values[cell[0]][cell[1]] < amount:
                continue  # this count would go negative
            candidate = distance + cost
            if candidate < best.get(neighbour, float("inf")):
                best[neighbour] = candidate
                came_from[neighbour] = (node, cell)
                heapq.heappush(queue, (candidate, neighbour))
    if goal not in done:
        return None
    path: list[Cell] = []
    node = goal
    while node != start:
        node, cell = came_from[node]
        path.append(cell)
    return path[::-1]


def cells_without_protection(
    table: CountTable, suppressed: frozenset[Cell] | set[Cell], protection: int = 1
) -> list[Cell]:
    """Hidden cells an intruder could pin to fewer than ``protection`` + 1 values.

    Publisher-side check (it needs the true counts). Exact for protection 1; for more it may
    report a cell that several cycles together would protect (module docstring)."""
    values = table.grid()

    def hidden_only(cell: Cell) -> float | None:
        return 0.0 if cell in suppressed else None

    return [
        cell
        for cell in sorted(suppressed)
        if _cheapest_cycle(values, cell, protection, hidden_only) is None
        and _cheapest_cycle(values, cell, -protection, hidden_only) is None
    ]


# --------------------------------------------------------------------------- suppression


def _lines(n_rows: int, n_columns: int) -> list[tuple[str, list[Cell]]]:
    rows = [(f"row {r}", [(r, k) for k in range(n_columns)]) for r in range(n_rows)]
    columns = [(f"column {k}", [(r, k) for r in range(n_rows)]) for k in range(n_columns)]
    return rows + columns


def _line_name(table: CountTable, name: str) -> str:
    kind, index = name.split()
    labels = table.row_labels if kind == "row" else table.column_labels
    position = int(index)
    label = labels[position] if position < len(labels) else "total"
    return f"{kind} '{label}'"


def suppress_table(table: CountTable, rules: SuppressionRules | None = None) -> SuppressedTable:
    """Primary suppression, then the line rule, then the cycle rule (module docstring)."""
    rules = rules or SuppressionRules()
    values = table.grid()
    n_rows, n_columns = len(values), len(values[0])
    last_row, last_column = n_rows - 1, n_columns - 1
    reasons: dict[Cell, Suppression] = {}

    for r in range(n_rows):
        for k in range(n_columns):
            if rules.is_sensitive(values[r][k]):
                why = f"count {values[r][k]} is below {rules.threshold}"
                if values[r][k] == 0:
                    why = "zero counts are suppressed for this table"
                reasons[(r, k)] = Suppression(Reason.PRIMARY, why)

    def is_total(cell: Cell) -> bool:
        return cell[0] == last_row or cell[1] == last_column

    # Totals are the figures users read first: any set of counts costs less than one total, and
    # the grand total costs more than any other total.
    total_penalty = float(values[last_row][last_column] + n_rows * n_columns + 1)

    def weight(cell: Cell) -> float:
        value = values[cell[0]][cell[1]] + 1.0  # +1: fewer extra cells is better, even zeros
        if cell == (last_row, last_column):
            return value + 2 * total_penalty
        return value + total_penalty if is_total(cell) else value

    def add_line_complements() -> None:
        changed = True
        while changed:
            changed = False
            for name, line in _lines(n_rows, n_columns):
                hidden = [cell for cell in line if cell in reasons]
                if len(hidden) != 1:
                    continue
                candidates = [cell for cell in line if cell not in reasons]
                chosen = min(
                    candidates,
                    key=lambda c: (is_total(c), values[c[0]][c[1]] == 0, values[c[0]][c[1]], c),
                )
                reasons[chosen] = Suppression(
                    Reason.SECONDARY,
                    f"second hidden cell in {_line_name(table, name)}, which would otherwise "
                    f"reveal {_describe(table, hidden[0])}",
                )
                changed = True

    def add_cycle_complements() -> None:
        while exposed := cells_without_protection(table, set(reasons), rules.protection):
            target = exposed[0]

            def cost(cell: Cell) -> float:
                return 0.0 if cell in reasons else weight(cell)

            paths = [
                path
                for step in (rules.protection, -rules.protection)
                if (path := _cheapest_cycle(values, target, step, cost)) is not None
            ]
            # Raising a count together with its row, column and grand totals is always
            # consistent, so an upward cycle always exists.
            path = min(paths, key=lambda p: (sum(cost(c) for c in p), len(p)))
            added = [cell for cell in path if cell not in reasons]
            assert added, "an exposed cell has no cycle of hidden cells"
            for cell in added:
                reasons[cell] = Suppression(
                    Reason.SECONDARY,
                    f"closes a cycle of hidden cells that protects {_describe(table, target)}",
                )

    if reasons:
        add_line_complements()
        add_cycle_complements()
    published = tuple(
        tuple(None if (r, k) in reasons else values[r][k] for k in range(n_columns))
        for r in range(n_rows)
    )
    return SuppressedTable(table.row_labels, table.column_labels, published, reasons)


def _describe(table: CountTable, cell: Cell) -> str:
    r, k = cell
    row = table.row_labels[r] if r < len(table.row_labels) else "total"
    column = table.column_labels[k] if k < len(table.column_labels) else "total"
    return f"cell ({row}, {column})"


def _as_table(counts: CountList) -> CountTable:
    """The list as a one-row table. Its column totals repeat the counts and hide with them, so
    the table has exactly the list's information: one equation, counts add up to the total."""
    return CountTable(("all",), counts.labels, (counts.counts,))


def suppress_list(counts: CountList, rules: SuppressionRules | None = None) -> SuppressedList:
    published = suppress_table(_as_table(counts), rules)
    row = published.grid[0]
    n = len(counts.labels)
    return SuppressedList(
        counts.labels,
        tuple(row[:n]),
        row[n],
        {k: reason for (r, k), reason in published.reasons.items() if r == 0},
    )


# --------------------------------------------------------------------------- auditing


@dataclass(frozen=True)
class FeasibleInterval:
    """The values a hidden cell can take, given everything published and counts >= 0."""

    lower: int
    upper: int | None  # None: unbounded (its row, column and grand totals are hidden too)

    @property
    def width(self) -> float:
        return float("inf") if self.upper is None else self.upper - self.lower


@dataclass(frozen=True)
class AuditReport:
    # Hidden cells that a combination of published equations determines exactly whatever the
    # bounds: the only hidden cell of a line, or a bridge between two groups of hidden cells.
    isolated: tuple[Cell, ...]
    # Exact intervals for every hidden cell; None when the table is too large to solve here.
    intervals: Mapping[Cell, FeasibleInterval] | None

    def recoverable(self, min_width: int = 1) -> list[Cell]:
        if self.intervals is None:
            return list(self.isolated)
        return sorted(c for c, i in self.intervals.items() if i.width < min_width)


def isolated_cells(published: SuppressedTable) -> list[Cell]:
    """The standard structural check (rank only, no bounds): a hidden cell on no cycle of hidden
    cells is determined by the line equations."""
    hidden = published.suppressed
    n_rows, n_columns = len(published.grid), len(published.grid[0])
    unknown = [[0] * n_columns for _ in range(n_rows)]  # values do not matter without bounds

    def usable(cell: Cell) -> float | None:
        return 0.0 if cell in hidden else None

    # Without bounds a cycle can run either way, so this is plain connectivity: is the cell's
    # row joined to its column by other hidden cells?
    return [
        c for c in sorted(hidden) if _cheapest_cycle(unknown, c, 1, usable, bounded=False) is None
    ]


def audit_table(published: SuppressedTable) -> AuditReport:
    """What an intruder can learn about each hidden cell from the published grid alone."""
    isolated = tuple(isolated_cells(published))
    n_rows, n_columns = len(published.grid), len(published.grid[0])
    if max(n_rows, n_columns) - 1 > MAX_EXACT_AUDIT_SIZE:
        return AuditReport(isolated, None)
    return AuditReport(isolated, _lp_intervals(published))


def audit_list(published: SuppressedList) -> AuditReport:
    """Audit of a published list; cells are reported as (0, index), the total as (0, n)."""
    row = (*published.values, published.total)
    grid = (row, row)  # the one-row table with its repeated column totals
    table = SuppressedTable(("all",), published.labels, grid)
    report = audit_table(table)
    keep = {(0, k) for k in range(len(row))}
    intervals = report.intervals
    return AuditReport(
        tuple(c for c in report.isolated if c in keep),
        None if intervals is None else {c: i for c, i in intervals.items() if c in keep},
    )


def _lp_intervals(published: SuppressedTable) -> dict[Cell, FeasibleInterval]:
    grid = published.grid
    hidden = sorted(published.suppressed)
    if not hidden:
        return {}
    index = {cell: i for i, cell in enumerate(hidden)}
    n_rows, n_columns = len(grid), len(grid[0])
    equations: list[tuple[list[Fraction], Fraction]] = []
    for _, line in _lines(n_rows, n_columns):
        # parts add up to the line's last cell: sum(parts) - last = 0
        coefficients = [Fraction(0)] * len(hidden)
        constant = Fraction(0)
        for position, (r, k) in enumerate(line):
            sign = -1 if position == len(line) - 1 else 1
            value = grid[r][k]
            if value is None:
                coefficients[index[(r, k)]] += sign
            else:
                constant -= sign * value
        if any(coefficients):
            equations.append((coefficients, constant))
    solver = _Simplex.feasible(equations, len(hidden))
    intervals: dict[Cell, FeasibleInterval] = {}
    for cell, i in index.items():
        objective = [Fraction(0)] * len(hidden)
        objective[i] = Fraction(-1)
        lowest = solver.maximum(objective)
        objective[i] = Fraction(1)
        upper = solver.maximum(objective)
        assert lowest is not None, "counts are bounded below by zero"
        intervals[cell] = FeasibleInterval(_integral(-lowest), _integral_or_none(upper))
    return intervals


def _integral(value: Fraction) -> int:
    # The equations of a table with its totals are totally unimodular: optima are integers.
    assert value.denominator == 1, f"non-integral optimum {value}"
    return int(value)


def _integral_or_none(value: Fraction | None) -> int | None:
    return None if value is None else _integral(value)


class _Simplex:
    """Dense two-phase simplex over Fractions with Bland's rule: max c.x s.t. A x = b, x >= 0.

    Small and exact rather than fast: tables up to MAX_EXACT_AUDIT_SIZE have at most 42
    equations. Phase 1 runs once; every later objective starts from the basis the previous one
    ended in, which is feasible and usually close."""

    def __init__(self, rows: list[list[Fraction]], basis: list[int]) -> None:
        self.rows = rows  # each row: coefficients, then the right-hand side
        self.basis = basis

    @classmethod
    def feasible(cls, equations: list[tuple[list[Fraction], Fraction]], n: int) -> _Simplex:
        m = len(equations)
        rows: list[list[Fraction]] = []
        for i, (coefficients, constant) in enumerate(equations):
            sign = -1 if constant < 0 else 1
            artificial = [Fraction(int(j == i)) for j in range(m)]
            rows.append([sign * a for a in coefficients] + artificial + [sign * constant])
        solver = cls(rows, [n + i for i in range(m)])
        if solver.maximum([Fraction(0)] * n + [Fraction(-1)] * m) != 0:
            raise ValueError("the published values are inconsistent")
        # Pivot the artificials (all at zero now) out of the basis; a row where that is
        # impossible is a redundant equation (a table's line equations always have one).
        kept: list[int] = []
        for i in range(m):
            if solver.basis[i] >= n:
                pivot = next((j for j in range(n) if solver.rows[i][j] != 0), None)
                if pivot is None:
                    continue
                solver._pivot(i, pivot)
            kept.append(i)
        rows = [[*solver.rows[i][:n], solver.rows[i][-1]] for i in kept]
        return cls(rows, [solver.basis[i] for i in kept])

    def maximum(self, cost: list[Fraction]) -> Fraction | None:
        """The maximum of cost.x, None when unbounded; leaves the optimal basis in place."""
        width = len(cost)
        # Reduced costs, kept up to date through the pivots rather than recomputed.
        reduced = list(cost)
        for b, row in zip(self.basis, self.rows, strict=True):
            if cost[b]:
                for j in range(width):
                    if row[j]:
                        reduced[j] -= cost[b] * row[j]
        while True:
            entering = next((j for j in range(width) if reduced[j] > 0), None)
            if entering is None:
                return sum(
                    (cost[b] * row[-1] for b, row in zip(self.basis, self.rows, strict=True)),
                    Fraction(0),
                )
            ratios = [
                (row[-1] / row[entering], self.basis[i], i)
                for i, row in enumerate(self.rows)
                if row[entering] > 0
            ]
            if not ratios:
                return None  # unbounded
            _, _, leaving = min(ratios)  # ties: smallest basic index (Bland)
            self._pivot(leaving, entering)
            pivot_row = self.rows[leaving]
            scale = reduced[entering]
            for j in range(width):
                if pivot_row[j]:
                    reduced[j] -= scale * pivot_row[j]

    def _pivot(self, i: int, j: int) -> None:
        factor = self.rows[i][j]
        pivot_row = [value / factor for value in self.rows[i]]
        self.rows[i] = pivot_row
        nonzero = [c for c, value in enumerate(pivot_row) if value]
        for r, row in enumerate(self.rows):
            if r != i and row[j]:
                scale = row[j]
                for c in nonzero:
                    row[c] -= scale * pivot_row[c]
        self.basis[i] = j
