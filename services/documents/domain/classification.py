"""Urgency (mức độ khẩn) and secrecy (độ mật) of a document.

Urgency levels are those of Decree 30/2020/NĐ-CP (khẩn, thượng khẩn, hỏa tốc); secrecy levels
are those of the Law on Protection of State Secrets 2018 (mật, tối mật, tuyệt mật). A document
with neither is an ordinary document: callers pass None rather than a fourth member, so "no
urgency" can never be confused with a level.

The enum values are the stable codes stored in the database and sent in events; the labels
are what registers and screens show. The numeric priority codes used on the edXML exchange
are a different, uncertain code list and live in the edXML configuration.
"""

from __future__ import annotations

from enum import StrEnum


class Urgency(StrEnum):
    KHAN = "khan"
    THUONG_KHAN = "thuong_khan"
    HOA_TOC = "hoa_toc"

    @property
    def label_vi(self) -> str:
        return _URGENCY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _URGENCY_LABELS[self][1]

    @property
    def rank(self) -> int:
        """1 for khẩn up to 3 for hỏa tốc, so the most urgent documents sort first."""
        return _URGENCY_LABELS[self][2]


_URGENCY_LABELS: dict[Urgency, tuple[str, str, int]] = {
    Urgency.KHAN: ("Khẩn", "Urgent", 1),
    Urgency.THUONG_KHAN: ("Thượng khẩn", "Very urgent", 2),
    Urgency.HOA_TOC: ("Hỏa tốc", "Immediate (express)", 3),
}


class Secrecy(StrEnum):
    MAT = "mat"
    TOI_MAT = "toi_mat"
    TUYET_MAT = "tuyet_mat"

    @property
    def label_vi(self) -> str:
        return _SECRECY_LABELS[self][0]

    @property
    def label_en(self) -> str:
        return _SECRECY_LABELS[self][1]

    @property
    def rank(self) -> int:
        """1 for mật up to 3 for tuyệt mật."""
        return _SECRECY_LABELS[self][2]


_SECRECY_LABELS: dict[Secrecy, tuple[str, str, int]] = {
    Secrecy.MAT: ("Mật", "Confidential", 1),
    Secrecy.TOI_MAT: ("Tối mật", "Secret", 2),
    Secrecy.TUYET_MAT: ("Tuyệt mật", "Top secret", 3),
}
