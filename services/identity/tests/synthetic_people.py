"""Synthetic Hải Phòng / Hải Dương learners with planted duplicates, for matching tests.

Name frequencies are rough national shares (Nguyễn about 38%); they only need to make blocks as
lopsided as real data. Everything comes from one ``random.Random(seed)``, so a data set is
reproducible from its seed.
"""

import random
import unicodedata
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from services.identity.domain.names import normalise_name
from services.identity.domain.person_record import PersonRecord
from services.identity.domain.sex import Sex

FAMILY_NAMES = {
    "Nguyễn": 38, "Trần": 11, "Lê": 9.5, "Phạm": 7, "Hoàng": 5, "Vũ": 4, "Phan": 4, "Đặng": 2,
    "Bùi": 2, "Đỗ": 1.5, "Hồ": 1.3, "Ngô": 1.3, "Dương": 1, "Đinh": 0.8, "Đào": 0.7,
    "Đoàn": 0.5, "Lương": 0.4, "Trịnh": 0.5, "Mai": 0.5, "Cao": 0.4, "Lý": 0.4, "Hà": 0.4,
    "Tạ": 0.3, "Phùng": 0.3, "Lưu": 0.3, "Tô": 0.3, "Vương": 0.2, "Quách": 0.2, "Khúc": 0.1,
    "Nghiêm": 0.1,
}  # fmt: skip
MIDDLE_NAMES = {
    Sex.MALE: ["Văn"] * 6 + ["Đức", "Minh", "Minh", "Quang", "Hữu", "Thành", "Gia", "Gia",
                             "Anh", "Tuấn", "Bảo", "Đăng", "Trung", "Xuân", "Hoàng", "Công",
                             "Mạnh", "Ngọc", "Thế", "Tiến", "Việt", "Duy", "Đình", "Trọng"],
    Sex.FEMALE: ["Thị"] * 7 + ["Ngọc", "Ngọc", "Thu", "Thanh", "Minh", "Phương", "Khánh",
                               "Bảo", "Hoài", "Thùy", "Mai", "Diệu", "Hồng", "Kim", "Lan",
                               "Thảo", "Tuệ", "Gia", "Quỳnh", "Yến", "Bích", "Hải", "Như"],
}  # fmt: skip
GIVEN_NAMES = {
    Sex.MALE: ["An", "Bình", "Cường", "Dũng", "Đạt", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng",
               "Huy", "Khang", "Khoa", "Kiên", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc",
               "Quân", "Sơn", "Tài", "Thắng", "Thành", "Tiến", "Toàn", "Trung", "Tuấn", "Việt",
               "Vinh", "Vũ", "Hưng", "Lâm", "Duy", "Khôi", "Bảo", "Phát", "Thịnh", "Tùng",
               "Hào", "Hiển", "Kiệt", "Lộc", "Luân", "Mạnh", "Nhân", "Nguyên", "Quang", "Quý",
               "Sang", "Tâm", "Thái", "Thiện", "Thông", "Trí", "Trọng", "Tú", "Tường", "Vĩnh",
               "Đông", "Định", "Giang", "Hậu", "Hòa", "Khải", "Khánh", "Lực", "Nhật", "Phú"],
    Sex.FEMALE: ["Anh", "Ánh", "Chi", "Dung", "Giang", "Hà", "Hạnh", "Hằng", "Hiền", "Hoa",
                 "Hòa", "Hồng", "Hương", "Hường", "Huyền", "Lan", "Linh", "Loan", "Mai", "My",
                 "Nga", "Ngân", "Ngọc", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo", "Thu",
                 "Thủy", "Trang", "Uyên", "Vân", "Yến", "Hân", "Vy", "Nhi", "Thư", "Tâm", "Diệp",
                 "An", "Bích", "Châu", "Diễm", "Duyên", "Đào", "Hậu", "Huệ", "Khuê", "Lam",
                 "Liên", "Lụa", "Ly", "Mến", "Minh", "Nguyệt", "Nhàn", "Như", "Phượng", "Quế",
                 "Sen", "Tâm", "Thanh", "Thắm", "Thơ", "Thúy", "Tiên", "Trâm", "Tuyết", "Xuân"],
}  # fmt: skip
COMMUNES = [
    "Phường Hồng Bàng", "Phường Lê Chân", "Phường Ngô Quyền", "Phường Hải An", "Phường Kiến An",
    "Phường Đồ Sơn", "Phường Dương Kinh", "Xã An Lão", "Xã Kiến Thụy", "Xã Tiên Lãng",
    "Xã Vĩnh Bảo", "Đặc khu Cát Hải", "Phường Thủy Nguyên", "Xã An Dương", "Phường Hải Dương",
    "Phường Chí Linh", "Phường Kinh Môn", "Xã Nam Sách", "Xã Thanh Hà", "Xã Cẩm Giàng",
    "Xã Bình Giang", "Xã Gia Lộc", "Xã Tứ Kỳ", "Xã Ninh Giang", "Xã Thanh Miện", "Xã Kim Thành",
]  # fmt: skip
PROVINCE_OF_BIRTH = {"031": 55, "030": 40, "001": 2, "022": 1.5, "034": 1.5}
FIRST_BIRTH_DATE = date(2008, 1, 1)
BIRTH_DAYS = (date(2022, 12, 31) - FIRST_BIRTH_DATE).days
SOURCES = ("hp-sector-db", "hd-sector-db", "school-sms", "admissions")


@dataclass(frozen=True)
class SyntheticDataSet:
    records: list[PersonRecord]
    true_pairs: set[frozenset[str]]  # planted duplicates, as record-ID pairs
    twin_pairs: set[frozenset[str]]  # different people sharing almost everything


def strip_diacritics(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


class PeopleGenerator:
    def __init__(self, seed: int, *, birth_days: int = BIRTH_DAYS) -> None:
        self.random = random.Random(seed)
        self.birth_days = birth_days
        self._issued_numbers: set[str] = set()
        self._next_id = 0
        self._families = list(FAMILY_NAMES)
        self._family_weights = list(FAMILY_NAMES.values())

    def new_id(self) -> str:
        self._next_id += 1
        return f"r{self._next_id:07d}"

    def family_name(self) -> str:
        return self.random.choices(self._families, self._family_weights)[0]

    def full_name(self, family: str, sex: Sex, given: str | None = None) -> str:
        middles = [self.random.choice(MIDDLE_NAMES[sex])]
        if self.random.random() < 0.2:
            middles.append(self.random.choice(MIDDLE_NAMES[sex]))
        given = given or self.random.choice(GIVEN_NAMES[sex])
        return " ".join([family, *dict.fromkeys(middles), given])

    def personal_number(self, birth_date: date, sex: Sex) -> str:
        codes = list(PROVINCE_OF_BIRTH)
        province = self.random.choices(codes, list(PROVINCE_OF_BIRTH.values()))[0]
        century_digit = 2 * ((birth_date.year - 1900) // 100) + (sex is Sex.FEMALE)
        while True:
            number = (
                f"{province}{century_digit}{birth_date.year % 100:02d}"
                f"{self.random.randrange(10**6):06d}"
            )
            if number not in self._issued_numbers:
                self._issued_numbers.add(number)
                return number

    def person(self, *, family: str | None = None, birth_date: date | None = None) -> PersonRecord:
        sex = self.random.choice((Sex.MALE, Sex.FEMALE))
        family = family or self.family_name()
        birth_date = birth_date or FIRST_BIRTH_DATE + timedelta(
            days=self.random.randrange(self.birth_days)
        )
        return PersonRecord(
            record_id=self.new_id(),
            full_name=self.full_name(family, sex),
            birth_date=birth_date,
            sex=sex,
            personal_number=(
                self.personal_number(birth_date, sex) if self.random.random() < 0.85 else None
            ),
            birthplace=(
                f"{self.random.choice(COMMUNES)}, Hải Phòng" if self.random.random() < 0.9 else None
            ),
            guardian_name=(
                self.full_name(family, Sex.MALE) if self.random.random() < 0.9 else None
            ),
            source=self.random.choice(SOURCES),
            verified=self.random.random() < 0.5,
            created_at=datetime(2018, 1, 1) + timedelta(minutes=self.random.randrange(10**6)),
        )

    def twin_of(self, person: PersonRecord) -> PersonRecord:
        """A sibling born the same day: same family, guardian and birthplace, other given name."""
        sex = self.random.choice((Sex.MALE, Sex.FEMALE))
        person_given = normalise_name(person.full_name).split()[-1]
        given = self.random.choice(
            [g for g in GIVEN_NAMES[sex] if normalise_name(g) != person_given]
        )
        family = person.full_name.split()[0]
        return replace(
            person,
            record_id=self.new_id(),
            full_name=self.full_name(family, sex, given),
            sex=sex,
            personal_number=(
                self.personal_number(person.birth_date, sex) if person.personal_number else None
            ),
        )

    def exact_duplicate(self, person: PersonRecord) -> PersonRecord:
        return replace(person, record_id=self.new_id(), source=self.random.choice(SOURCES))

    def near_duplicate(self, person: PersonRecord) -> PersonRecord:
        """One realistic data-entry difference, sometimes without personal number or guardian."""
        change = self.random.choice(
            (
                self._typo_in_name,
                self._diacritics_removed,
                self._order_swapped,
                self._middle_name_dropped,
                self._birth_date_slip,
                self._upper_case_without_diacritics,
            )
        )
        duplicate = change(self.exact_duplicate(person))
        if self.random.random() < 0.5:
            duplicate = replace(duplicate, personal_number=None)
        if self.random.random() < 0.2:
            duplicate = replace(duplicate, guardian_name=None)
        if duplicate.guardian_name and self.random.random() < 0.3:
            duplicate = replace(duplicate, guardian_name=strip_diacritics(duplicate.guardian_name))
        return duplicate

    def _typo_in_name(self, person: PersonRecord) -> PersonRecord:
        words = person.full_name.split()
        index = self.random.randrange(len(words))
        words[index] = self._typo(words[index])
        return replace(person, full_name=" ".join(words))

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

    def _diacritics_removed(self, person: PersonRecord) -> PersonRecord:
        return replace(person, full_name=strip_diacritics(person.full_name))

    def _upper_case_without_diacritics(self, person: PersonRecord) -> PersonRecord:
        return replace(person, full_name=strip_diacritics(person.full_name).upper())

    def _order_swapped(self, person: PersonRecord) -> PersonRecord:
        words = person.full_name.split()
        return replace(person, full_name=" ".join([words[-1], *words[:-1]]))

    def _middle_name_dropped(self, person: PersonRecord) -> PersonRecord:
        words = person.full_name.split()
        return replace(person, full_name=" ".join([words[0], words[-1]]))

    def _birth_date_slip(self, person: PersonRecord) -> PersonRecord:
        birth_date = person.birth_date
        if birth_date.day <= 12 and birth_date.day != birth_date.month:
            slipped = birth_date.replace(month=birth_date.day, day=birth_date.month)
        else:
            slipped = birth_date + timedelta(days=self.random.choice((-1, 1)))
        return replace(person, birth_date=slipped)


def generate_data_set(
    seed: int,
    *,
    people: int = 5_000,
    exact_duplicates: int = 300,
    near_duplicates: int = 300,
    twins: int = 50,
    birth_days: int = BIRTH_DAYS,
) -> SyntheticDataSet:
    generator = PeopleGenerator(seed, birth_days=birth_days)
    originals = [generator.person() for _ in range(people)]
    records = list(originals)
    true_pairs: set[frozenset[str]] = set()
    twin_pairs: set[frozenset[str]] = set()
    chosen = generator.random.sample(originals, exact_duplicates + near_duplicates + twins)
    for position, original in enumerate(chosen):
        if position < exact_duplicates:
            copy = generator.exact_duplicate(original)
            true_pairs.add(frozenset((original.record_id, copy.record_id)))
        elif position < exact_duplicates + near_duplicates:
            copy = generator.near_duplicate(original)
            true_pairs.add(frozenset((original.record_id, copy.record_id)))
        else:
            copy = generator.twin_of(original)
            twin_pairs.add(frozenset((original.record_id, copy.record_id)))
        records.append(copy)
    generator.random.shuffle(records)
    return SyntheticDataSet(records=records, true_pairs=true_pairs, twin_pairs=twin_pairs)
