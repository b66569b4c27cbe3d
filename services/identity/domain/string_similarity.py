"""Edit-distance measures implemented here so the domain needs no third-party library."""

WINKLER_PREFIX_SCALE = 0.1
WINKLER_MAX_PREFIX = 4
# Winkler's original rule: only reward a common prefix when the strings are already alike.
WINKLER_BOOST_THRESHOLD = 0.7


def jaro(a: str, b: str) -> float:
    """Jaro similarity in [0, 1]: shared characters within a window, minus transpositions."""
    if a == b:
        return 1.0
    if not a or not b:
        return 0.0
    window = max(max(len(a), len(b)) // 2 - 1, 0)
    a_matched = [False] * len(a)
    b_matched = [False] * len(b)
    matches = 0
    for i, char in enumerate(a):
        for j in range(max(0, i - window), min(len(b), i + window + 1)):
            if not b_matched[j] and b[j] == char:
                a_matched[i] = b_matched[j] = True
                matches += 1
                break
    if matches == 0:
        return 0.0
    a_sequence = [char for char, hit in zip(a, a_matched, strict=True) if hit]
    b_sequence = [char for char, hit in zip(b, b_matched, strict=True) if hit]
    half_transpositions = sum(x != y for x, y in zip(a_sequence, b_sequence, strict=True))
    transpositions = half_transpositions / 2
    return (matches / len(a) + matches / len(b) + (matches - transpositions) / matches) / 3


def jaro_winkler(a: str, b: str) -> float:
    """Jaro-Winkler similarity in [0, 1]; a shared prefix (up to 4 characters) raises it."""
    similarity = jaro(a, b)
    if similarity < WINKLER_BOOST_THRESHOLD:
        return similarity
    prefix = 0
    for x, y in zip(a[:WINKLER_MAX_PREFIX], b[:WINKLER_MAX_PREFIX], strict=False):
        if x != y:
            break
        prefix += 1
    return similarity + prefix * WINKLER_PREFIX_SCALE * (1 - similarity)


def damerau_levenshtein(a: str, b: str) -> int:
    """Edits (insert, delete, substitute, swap adjacent) to turn ``a`` into ``b``.

    This is the restricted "optimal string alignment" variant: a swapped pair is not edited
    again, which is what a single typing slip looks like.
    """
    previous_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], previous_previous[j - 2] + 1)
        previous_previous, previous = previous, current
    return previous[len(b)]
