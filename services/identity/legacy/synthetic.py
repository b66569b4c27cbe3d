"""Two synthetic legacy exports with a known truth, for tests and the benchmark.

The first source (Hải Phòng) is written the way its sector database exports: comma-separated
UTF-8, ISO dates, ``learner``/``teacher``/``staff``, ``male``/``female``. The second (Hải Dương)
uses the other dialect the importer accepts: semicolons, a BOM, ``DD/MM/YYYY``, ``HS``/``GV``/
``NV``, ``Nam``/``Nữ``, other column order; or an .xlsx workbook whose numeric cells lose their
leading zeros. Both number their people from 100001, so local IDs overlap as they do for real.

Planted, with the truth returned:

- exact duplicates: the same person in both sources, same personal number, other legacy ID;
- near duplicates: the same person with one data-entry difference (a typo, no diacritics,
  given name first, upper case) and often without personal number;
- broken rows (unknown school, a personal number contradicting the sex, an impossible date, a
  repeated legacy ID, a missing name), appended after the ordinary rows;
- everyone else is in one source only.

Learners' birth dates follow their grade in school year 2025–26 (grade 1 born 2019); the grade
weights are rough national shares (DOMAIN.md, 2024–25: primary 8.85 M over 5 grades, lower
secondary 6.51 M over 4, upper secondary 2.99 M over 3, preschool 4.8 M). Family-name
frequencies are rough national shares too (Nguyễn about 38%): they only need to make matching
blocks as lopsided as real data. Everything comes from one ``random.Random(seed)``.
"""

from __future__ import annotations

import csv
import itertools
import random
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

from services.identity.domain.personal_number import century_sex_digit
from services.identity.domain.sex import Sex
from services.identity.legacy.load import LoadOutcome
from services.identity.legacy.rows import PersonKind, legacy_alias

FAMILY_NAMES = {
    "Nguyễn": 38, "Trần": 11, "Lê": 9.5, "Phạm": 7, "Hoàng": 5, "Vũ": 4, "Phan": 4, "Đặng": 2,
    "Bùi": 2, "Đỗ": 1.5, "Hồ": 1.3, "Ngô": 1.3, "Dương": 1, "Đinh": 0.8, "Đào": 0.7,
    "Đoàn": 0.5, "Lương": 0.4, "Trịnh": 0.5, "Mai": 0.5, "Cao": 0.4, "Lý": 0.4, "Hà": 0.4,
    "Tạ": 0.3, "Phùng": 0.3, "Lưu": 0.3, "Tô": 0.3, "Vương": 0.2, "Quách": 0.2, "Khúc": 0.1,
}  # fmt: skip
MIDDLE_NAMES = {
    Sex.MALE: ["Văn"] * 6 + ["Đức", "Minh", "Quang", "Hữu", "Thành", "Gia", "Anh", "Tuấn",
                             "Bảo", "Đăng", "Trung", "Xuân", "Công", "Mạnh", "Ngọc", "Thế",
                             "Tiến", "Việt", "Duy", "Đình", "Trọng"],
    Sex.FEMALE: ["Thị"] * 7 + ["Ngọc", "Thu", "Thanh", "Minh", "Phương", "Khánh", "Bảo",
                               "Hoài", "Thùy", "Mai", "Diệu", "Hồng", "Kim", "Lan", "Thảo",
                               "Gia", "Quỳnh", "Yến", "Bích", "Hải", "Như"],
}  # fmt: skip
GIVEN_NAMES = {
    Sex.MALE: ["An", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng",
               "Huy", "Khang", "Khoa", "Kiên", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc",
               "Quân", "Sơn", "Tài", "Thắng", "Thành", "Tiến", "Toàn", "Trung", "Tuấn", "Việt",
               "Vinh", "Vũ", "Hưng", "Lâm", "Duy", "Khôi", "Bảo", "Phát", "Thịnh", "Tùng",
               "Hào", "Hiển", "Kiệt", "Lộc", "Luân", "Mạnh", "Nhân", "Nguyên", "Quang", "Quý",
               "Sang", "Tâm", "Thái", "Thiện", "Thông", "Trí", "Trọng", "Tú", "Tường", "Vĩnh"],
    Sex.FEMALE: ["Anh", "Ánh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
                 "Hòa", "Hồng", "Hương", "Hường", "Huyền", "Lan", "Linh", "Loan", "Mai", "My",
                 "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Thu",
                 "Thủy", "Trang", "Uyên", "Vân", "Yến", "Hân", "Vy", "Nhi", "Thư", "Diệp",
                 "Bích", "Châu", "Diễm", "Duyên", "Huệ", "Khuê", "Lam", "Liên", "Ly", "Mến",
                 "Nguyệt", "Nhàn", "Như", "Phượng", "Quế", "Thắm", "Thơ", "Thúy", "Tiên", "Trâm"],
}  # fmt: skip
BIRTHPLACES = {
    "HP": ["Phường Hồng Bàng", "Phường Lê Chân", "Phường Ngô Quyền", "Phường Hải An",
           "Phường Kiến An", "Phường Đồ Sơn", "Xã An Lão", "Xã Kiến Thụy", "Xã Tiên Lãng",
           "Xã Vĩnh Bảo", "Đặc khu Cát Hải", "Phường Thủy Nguyên", "Xã An Dương"],
    "HD": ["Phường Hải Dương", "Phường Chí Linh", "Phường Kinh Môn", "Xã Nam Sách",
           "Xã Thanh Hà", "Xã Cẩm Giàng", "Xã Bình Giang", "Xã Gia Lộc", "Xã Tứ Kỳ",
           "Xã Ninh Giang", "Xã Thanh Miện", "Xã Kim Thành"],
}  # fmt: skip
PROVINCE_NAME = {"HP": "Hải Phòng", "HD": "Hải Dương"}
# Birth-registration codes of people in each source: mostly born where they live.
PROVINCE_OF_BIRTH = {
    "HP": {"031": 85, "030": 8, "001": 3, "022": 2, "034": 2},
    "HD": {"030": 85, "031": 8, "001": 3, "033": 2, "027": 2},
}
# Birth year -> relative size of the cohort in school (see the module docstring).
LEARNER_BIRTH_YEARS = {
    2023: 0.3,  # nursery
    **{year: 1.0 for year in (2020, 2021, 2022)},  # preschool
    **{2020 - grade: 1.8 for grade in range(1, 6)},  # primary, grade 1 born 2019
    **{2020 - grade: 1.6 for grade in range(6, 10)},  # lower secondary
    **{2020 - grade: 1.0 for grade in range(10, 13)},  # upper secondary
}
STAFF_BIRTH_YEARS = range(1966, 2003)
TEACHER_SHARE_OF_STAFF = 0.85
LEARNERS_WITH_NUMBER = 0.85  # the personal number became the learner ID only in 2023
STAFF_WITH_NUMBER = 0.97
FIRST_LEGACY_ID = 100_001

CANONICAL_COLUMNS = [
    "legacy_id",
    "kind",
    "full_name",
    "birth_date",
    "sex",
    "personal_number",
    "birthplace",
    "guardian_name",
    "org_id",
]
# The second source lists its columns in another order, as a different system would.
SECOND_SOURCE_COLUMNS = [
    "org_id",
    "legacy_id",
    "full_name",
    "sex",
    "birth_date",
    "kind",
    "guardian_name",
    "personal_number",
    "birthplace",
]
KIND_CODES_VI = {"learner": "HS", "teacher": "GV", "staff": "NV"}


@dataclass(frozen=True, slots=True)
class SyntheticPerson:
    kind: PersonKind
    full_name: str
    birth_date: date
    sex: Sex
    personal_number: str | None
    birthplace: str | None
    guardian_name: str | None


@dataclass(slots=True)
class _ExportRow:
    legacy_id: str
    person: SyntheticPerson
    org_id: str
    birth_date_text: str | None = None  # set for a planted impossible date


@dataclass(frozen=True, slots=True)
class PlantedError:
    source: str
    row_number: int
    field: str
    rule: str


@dataclass(frozen=True)
class SyntheticExports:
    paths: dict[str, Path]  # source -> file
    rows: dict[str, int]  # source -> data rows written
    same_person: set[frozenset[str]]  # planted duplicates, as pairs of aliases (HP:.., HD:..)
    planted_errors: list[PlantedError]


def write_exports(
    folder: Path,
    *,
    learners: int,
    staff: int,
    exact_duplicates: int,
    near_duplicates: int,
    org_ids: Mapping[str, Sequence[str]],
    broken_rows: int = 0,
    sources: tuple[str, str] = ("HP", "HD"),
    second_source_share: float = 0.5,
    excel_sources: Sequence[str] = (),
    seed: int = 2025,
) -> SyntheticExports:
    """Write two exports with ``learners + staff`` rows in all, duplicates and broken rows
    included (so the row count is what the importer reads)."""
    generator = _Generator(seed)
    first, second = sources
    unique_people = learners + staff - exact_duplicates - near_duplicates - broken_rows
    if unique_people <= exact_duplicates + near_duplicates:
        raise ValueError("too many planted duplicates and broken rows for the number of rows")
    staff_share = staff / (learners + staff)
    placed: dict[str, list[SyntheticPerson]] = {first: [], second: []}
    people = []
    for _ in range(unique_people):
        source = second if generator.random.random() < second_source_share else first
        kind = generator.kind(staff_share)
        person = generator.person(kind, home=source)
        placed[source].append(person)
        people.append((source, person))

    with_number = [entry for entry in people if entry[1].personal_number is not None]
    chosen = generator.random.sample(with_number, exact_duplicates + near_duplicates)
    copies: list[tuple[str, SyntheticPerson, SyntheticPerson]] = []
    for position, (source, person) in enumerate(chosen):
        other = second if source == first else first
        copy = person if position < exact_duplicates else generator.near_duplicate(person)
        placed[other].append(copy)
        copies.append((source, person, copy))

    rows: dict[str, list[_ExportRow]] = {}
    for source in sources:
        generator.random.shuffle(placed[source])
        rows[source] = [
            _ExportRow(str(FIRST_LEGACY_ID + n), person, generator.random.choice(org_ids[source]))
            for n, person in enumerate(placed[source])
        ]
    same_person = _pairs_of_copies(copies, rows, sources)
    planted = _append_broken_rows(generator, rows, sources, broken_rows, org_ids)

    paths = {}
    for source in sources:
        excel = source in excel_sources
        path = folder / f"{source.lower()}_export.{'xlsx' if excel else 'csv'}"
        dialect_second = source == second
        if excel:
            _write_xlsx(path, rows[source], generator.random)
        else:
            _write_csv(path, rows[source], second_dialect=dialect_second)
        paths[source] = path
    return SyntheticExports(
        paths=paths,
        rows={source: len(rows[source]) for source in sources},
        same_person=same_person,
        planted_errors=planted,
    )


def _pairs_of_copies(
    copies: list[tuple[str, SyntheticPerson, SyntheticPerson]],
    rows: dict[str, list[_ExportRow]],
    sources: tuple[str, str],
) -> set[frozenset[str]]:
    # People are frozen dataclasses and an exact copy equals its original, so rows are found
    # by identity, not equality.
    alias_of = {
        (source, id(row.person)): legacy_alias(source, row.legacy_id)
        for source in sources
        for row in rows[source]
    }
    pairs = set()
    for source, original, copy in copies:
        other = sources[1] if source == sources[0] else sources[0]
        pairs.add(frozenset((alias_of[(source, id(original))], alias_of[(other, id(copy))])))
    return pairs


def _append_broken_rows(
    generator: _Generator,
    rows: dict[str, list[_ExportRow]],
    sources: tuple[str, str],
    count: int,
    org_ids: Mapping[str, Sequence[str]],
) -> list[PlantedError]:
    planted = []
    for n in range(count):
        source = sources[n % 2]
        table = rows[source]
        person = generator.person("learner", home=source, with_number=True)
        row = _ExportRow(
            str(FIRST_LEGACY_ID + len(table)), person, generator.random.choice(org_ids[source])
        )
        breakage = n // 2 % 5
        if breakage == 0:
            row.org_id = "UNKNOWN-SCHOOL"
            field, rule = "org_id", "org_id.unknown"
        elif breakage == 1:
            assert person.personal_number is not None
            flipped = int(person.personal_number[3]) ^ 1  # the other sex, same century
            number = f"{person.personal_number[:3]}{flipped}{person.personal_number[4:]}"
            row.person = replace(person, personal_number=number)
            field, rule = "sex", "personal_number.sex_matches"
        elif breakage == 2:
            row.birth_date_text = f"{person.birth_date.year}-02-30"
            field, rule = "birth_date", "birth_date.impossible"
        elif breakage == 3:
            row.legacy_id = generator.random.choice(table).legacy_id
            field, rule = "legacy_id", "legacy_id.duplicate"
        else:
            row.person = replace(person, full_name="")
            field, rule = "full_name", "full_name.required"
        table.append(row)
        planted.append(PlantedError(source, len(table) + 1, field, rule))  # header is row 1
    return planted


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class _Generator:
    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)
        self._issued: set[str] = set()
        self._families = list(FAMILY_NAMES)
        self._family_weights = list(FAMILY_NAMES.values())
        self._learner_years = list(LEARNER_BIRTH_YEARS)
        self._learner_year_weights = list(LEARNER_BIRTH_YEARS.values())

    def kind(self, staff_share: float) -> PersonKind:
        if self.random.random() >= staff_share:
            return "learner"
        return "teacher" if self.random.random() < TEACHER_SHARE_OF_STAFF else "staff"

    def person(
        self, kind: PersonKind, *, home: str, with_number: bool | None = None
    ) -> SyntheticPerson:
        sex = self.random.choice((Sex.MALE, Sex.FEMALE))
        family = self.random.choices(self._families, self._family_weights)[0]
        if kind == "learner":
            year = self.random.choices(self._learner_years, self._learner_year_weights)[0]
            share_with_number = LEARNERS_WITH_NUMBER
        else:
            year = self.random.choice(STAFF_BIRTH_YEARS)
            share_with_number = STAFF_WITH_NUMBER
        birth_date = date(year, 1, 1) + timedelta(days=self.random.randrange(365))
        if with_number is None:
            with_number = self.random.random() < share_with_number
        places = BIRTHPLACES.get(home, BIRTHPLACES["HP"])
        birthplace = f"{self.random.choice(places)}, {PROVINCE_NAME.get(home, home)}"
        return SyntheticPerson(
            kind=kind,
            full_name=self.full_name(family, sex),
            birth_date=birth_date,
            sex=sex,
            personal_number=self.personal_number(birth_date, sex, home) if with_number else None,
            birthplace=birthplace if self.random.random() < 0.8 else None,
            guardian_name=(
                self.full_name(family, Sex.MALE)
                if kind == "learner" and self.random.random() < 0.9
                else None
            ),
        )

    def full_name(self, family: str, sex: Sex) -> str:
        middles = [self.random.choice(MIDDLE_NAMES[sex])]
        if self.random.random() < 0.2:
            middles.append(self.random.choice(MIDDLE_NAMES[sex]))
        given = self.random.choice(GIVEN_NAMES[sex])
        return " ".join([family, *dict.fromkeys(middles), given])

    def personal_number(self, birth_date: date, sex: Sex, home: str) -> str:
        provinces = PROVINCE_OF_BIRTH.get(home, PROVINCE_OF_BIRTH["HP"])
        province = self.random.choices(list(provinces), list(provinces.values()))[0]
        prefix = f"{province}{century_sex_digit(birth_date.year, sex)}{birth_date.year % 100:02d}"
        while True:
            number = f"{prefix}{self.random.randrange(10**6):06d}"
            if number not in self._issued:
                self._issued.add(number)
                return number

    def near_duplicate(self, person: SyntheticPerson) -> SyntheticPerson:
        """One data-entry difference; often the other source has no personal number yet."""
        change = self.random.choice(("typo", "no_diacritics", "given_first", "upper", "number"))
        name = person.full_name
        if change == "typo":
            words = name.split()
            index = self.random.randrange(len(words))
            words[index] = self._typo(words[index])
            name = " ".join(words)
        elif change == "no_diacritics":
            name = strip_diacritics(name)
        elif change == "given_first":
            words = name.split()
            name = " ".join([words[-1], *words[:-1]])
        elif change == "upper":
            name = strip_diacritics(name).upper()
        drop_number = change == "number" or self.random.random() < 0.5
        guardian = person.guardian_name
        if guardian and self.random.random() < 0.3:
            guardian = strip_diacritics(guardian)
        return replace(
            person,
            full_name=name,
            personal_number=None if drop_number else person.personal_number,
            guardian_name=guardian,
        )

    def _typo(self, word: str) -> str:
        position = self.random.randrange(len(word))
        kind = self.random.choice(("substitute", "delete", "insert", "swap"))
        letter = self.random.choice("abcdeghiklmnopqrstuvxy")
        if kind == "swap" and len(word) > 1:
            position = min(position, len(word) - 2)
            return word[:position] + word[position + 1] + word[position] + word[position + 2 :]
        if kind == "delete" and len(word) > 1:
            return word[:position] + word[position + 1 :]
        if kind == "insert":
            return word[:position] + letter + word[position:]
        return word[:position] + letter + word[position + 1 :]


# --- writing the two dialects ---------------------------------------------------------------


def _csv_cells(row: _ExportRow, *, second_dialect: bool) -> dict[str, str]:
    person = row.person
    if second_dialect:
        kind = KIND_CODES_VI[person.kind]
        sex = "Nam" if person.sex is Sex.MALE else "Nữ"
        birth_date = person.birth_date.strftime("%d/%m/%Y")
        if row.birth_date_text:
            year, month, day = row.birth_date_text.split("-")
            birth_date = f"{day}/{month}/{year}"
    else:
        kind, sex = person.kind, person.sex.value
        birth_date = row.birth_date_text or person.birth_date.isoformat()
    return {
        "legacy_id": row.legacy_id,
        "kind": kind,
        "full_name": person.full_name,
        "birth_date": birth_date,
        "sex": sex,
        "personal_number": person.personal_number or "",
        "birthplace": person.birthplace or "",
        "guardian_name": person.guardian_name or "",
        "org_id": row.org_id,
    }


def _write_csv(path: Path, rows: list[_ExportRow], *, second_dialect: bool) -> None:
    columns = SECOND_SOURCE_COLUMNS if second_dialect else CANONICAL_COLUMNS
    encoding = "utf-8-sig" if second_dialect else "utf-8"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=";" if second_dialect else ",")
        writer.writerow(columns)
        for row in rows:
            cells = _csv_cells(row, second_dialect=second_dialect)
            writer.writerow([cells[column] for column in columns])


def _write_xlsx(path: Path, rows: list[_ExportRow], rng: random.Random) -> None:
    import openpyxl

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet("export")
    sheet.append(SECOND_SOURCE_COLUMNS)
    for row in rows:
        cells: dict[str, object] = dict(_csv_cells(row, second_dialect=True))
        cells["legacy_id"] = int(row.legacy_id)
        # Real workbooks mix typed cells: dates as dates, and numbers typed as numbers lose
        # their leading zero (the importer puts it back).
        if row.birth_date_text is None:
            cells["birth_date"] = row.person.birth_date
        number = row.person.personal_number
        if number and rng.random() < 0.5:
            cells["personal_number"] = int(number)
        sheet.append([cells[column] or None for column in SECOND_SOURCE_COLUMNS])
    workbook.save(path)


# --- scoring an import against the truth ----------------------------------------------------


def found_pairs(outcome: LoadOutcome) -> set[frozenset[str]]:
    """Pairs of aliases the import said are (or may be) one person: every two rows mapped to
    the same sector ID, and every review pair between two legacy rows."""
    aliases_of: defaultdict[str, list[str]] = defaultdict(list)
    for entry in outcome.id_map:
        aliases_of[entry.sector_id].append(entry.alias)
    pairs = {
        frozenset((a, b))
        for aliases in aliases_of.values()
        for a, b in itertools.combinations(aliases, 2)
    }
    pairs.update(
        frozenset(
            (legacy_alias(r.a.source, r.a.legacy_id), legacy_alias(r.b.source, r.b.legacy_id))
        )
        for r in outcome.reviews
        if r.a.legacy_id and r.b.legacy_id
    )
    return pairs


def recall_and_precision(
    truth: set[frozenset[str]], found: set[frozenset[str]]
) -> tuple[float, float]:
    hits = len(truth & found)
    return (hits / len(truth) if truth else 1.0, hits / len(found) if found else 1.0)
