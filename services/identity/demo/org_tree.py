"""The demo organisation tree: the merged city of Hải Phòng as of 1 July 2025.

The 114 commune-level units come from haiphong_communes_2025.csv (sources in SOURCES.md).
Their official codes were not available, so units get readable IDs made from their names.
The schools are illustrative, not the real list: every commune gets a preschool, a primary and
a lower-secondary school, some get a family daycare group, a nursery, a kindergarten or a
private multi-level school; upper-secondary schools and continuing-education centres hang
under the province, which runs them.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from importlib import resources

PROVINCE_ID = "HP"
EFFECTIVE = "2025-07-01"
COLUMNS = [
    "org_id",
    "kind",
    "name",
    "parent_id",
    "commune_type",
    "school_type",
    "ownership",
    "valid_from",
]


def slug(name: str) -> str:
    plain = unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(ch for ch in plain if unicodedata.category(ch) != "Mn")
    return "-".join(plain.upper().split())


def communes() -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath("haiphong_communes_2025.csv").read_text("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def _org(org_id: str, kind: str, name: str, parent: str, **extra: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(org_id=org_id, kind=kind, name=name, parent_id=parent, valid_from=EFFECTIVE)
    row.update(extra)
    return row


def demo_org_rows() -> list[dict[str, str]]:
    rows = [_org(PROVINCE_ID, "province", "Thành phố Hải Phòng", "")]
    used: set[str] = set()
    for n, commune in enumerate(communes(), start=1):
        commune_id = f"HP-{slug(commune['name'])}"
        if commune_id in used:  # names that differ only by diacritics (Cẩm Giang, Cẩm Giàng)
            commune_id = f"{commune_id}-{n}"
        used.add(commune_id)
        place = commune["name"].split(" ", 1)[1]
        rows.append(
            _org(
                commune_id,
                "commune",
                commune["name"],
                PROVINCE_ID,
                commune_type=commune["commune_type"],
            )
        )
        public = {"ownership": "public"}
        rows.append(
            _org(
                f"{commune_id}-MN",
                "school",
                f"Trường Mầm non {place}",
                commune_id,
                school_type="preschool",
                **public,
            )
        )
        rows.append(
            _org(
                f"{commune_id}-TH",
                "school",
                f"Trường Tiểu học {place}",
                commune_id,
                school_type="primary",
                **public,
            )
        )
        rows.append(
            _org(
                f"{commune_id}-THCS",
                "school",
                f"Trường THCS {place}",
                commune_id,
                school_type="lower_secondary",
                **public,
            )
        )
        if n % 10 == 0:
            rows.append(
                _org(
                    f"{commune_id}-NT",
                    "daycare_group",
                    f"Nhóm trẻ độc lập {place}",
                    commune_id,
                    school_type="family_daycare",
                    ownership="private",
                )
            )
        if n % 12 == 0:
            rows.append(
                _org(
                    f"{commune_id}-NTRE",
                    "school",
                    f"Nhà trẻ {place}",
                    commune_id,
                    school_type="nursery",
                    **public,
                )
            )
            rows.append(
                _org(
                    f"{commune_id}-MG",
                    "school",
                    f"Trường Mẫu giáo {place}",
                    commune_id,
                    school_type="kindergarten",
                    **public,
                )
            )
        if n % 15 == 0:
            rows.append(
                _org(
                    f"{commune_id}-LC",
                    "school",
                    f"Trường liên cấp {place}",
                    commune_id,
                    school_type="multi_level",
                    ownership="private",
                )
            )
        if n % 5 == 0:
            rows.append(
                _org(
                    f"{commune_id}-THPT",
                    "school",
                    f"Trường THPT {place}",
                    PROVINCE_ID,
                    school_type="upper_secondary",
                    **public,
                )
            )
    for n, place in enumerate(("Hải Phòng", "Hải Dương"), start=1):
        rows.append(
            _org(
                f"HP-GDTX-{n}",
                "school",
                f"Trung tâm GDNN-GDTX {place}",
                PROVINCE_ID,
                school_type="continuing_education",
                ownership="public",
            )
        )
    return rows


def demo_org_csv() -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS)
    writer.writeheader()
    writer.writerows(demo_org_rows())
    return out.getvalue().encode()
