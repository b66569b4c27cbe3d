"""Administrative document types and their abbreviations (tên loại văn bản, chữ viết tắt).

Source: Decree 30/2020/NĐ-CP, Article 7 (the 29 types of administrative document) and Appendix
III part I (abbreviations used in the notation). Checked against secondary copies of Appendix
III only, not the gazetted text: check before relying on the rarer types.

The table is data, not code: a key (stable, stored), the Vietnamese name, an English gloss and
the abbreviation. Công văn has no abbreviation, which is why its notation starts with the
issuer (`05/SGDĐT-VP`). Thư công (Article 7) is left out: it carries no number and notation.
Copies (bản sao y SY, trích sao TrS, sao lục SL) are here too because they are numbered in the
same register with their own abbreviations.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


@dataclass(frozen=True)
class DocumentType:
    key: str
    name_vi: str
    name_en: str
    # None only for công văn: its notation has no type abbreviation.
    abbreviation: str | None


CONG_VAN_KEY = "cong_van"

_TYPES: tuple[DocumentType, ...] = (
    DocumentType("nghi_quyet", "Nghị quyết", "Resolution", "NQ"),
    DocumentType("quyet_dinh", "Quyết định", "Decision", "QĐ"),
    DocumentType("chi_thi", "Chỉ thị", "Directive", "CT"),
    DocumentType("quy_che", "Quy chế", "Regulation (statute)", "QC"),
    DocumentType("quy_dinh", "Quy định", "Rules", "QyĐ"),
    DocumentType("thong_cao", "Thông cáo", "Communiqué", "TC"),
    DocumentType("thong_bao", "Thông báo", "Notice", "TB"),
    DocumentType("huong_dan", "Hướng dẫn", "Guidance", "HD"),
    DocumentType("chuong_trinh", "Chương trình", "Programme", "CTr"),
    DocumentType("ke_hoach", "Kế hoạch", "Plan", "KH"),
    DocumentType("phuong_an", "Phương án", "Option (scheme)", "PA"),
    DocumentType("de_an", "Đề án", "Scheme (proposal)", "ĐA"),
    DocumentType("du_an", "Dự án", "Project", "DA"),
    DocumentType("bao_cao", "Báo cáo", "Report", "BC"),
    DocumentType("bien_ban", "Biên bản", "Minutes", "BB"),
    DocumentType("to_trinh", "Tờ trình", "Submission", "TTr"),
    DocumentType("hop_dong", "Hợp đồng", "Contract", "HĐ"),
    DocumentType(CONG_VAN_KEY, "Công văn", "Official letter", None),
    DocumentType("cong_dien", "Công điện", "Official dispatch (telegram)", "CĐ"),
    DocumentType("ban_ghi_nho", "Bản ghi nhớ", "Memorandum of understanding", "BGN"),
    DocumentType("ban_thoa_thuan", "Bản thỏa thuận", "Agreement", "BTT"),
    DocumentType("giay_uy_quyen", "Giấy ủy quyền", "Power of attorney", "GUQ"),
    DocumentType("giay_moi", "Giấy mời", "Invitation", "GM"),
    DocumentType("giay_gioi_thieu", "Giấy giới thiệu", "Letter of introduction", "GGT"),
    DocumentType("giay_nghi_phep", "Giấy nghỉ phép", "Leave permit", "GNP"),
    DocumentType("phieu_gui", "Phiếu gửi", "Dispatch slip", "PG"),
    DocumentType("phieu_chuyen", "Phiếu chuyển", "Transfer slip", "PC"),
    DocumentType("phieu_bao", "Phiếu báo", "Notification slip", "PB"),
    DocumentType("ban_sao_y", "Bản sao y", "True copy", "SY"),
    DocumentType("ban_trich_sao", "Bản trích sao", "Extract copy", "TrS"),
    DocumentType("ban_sao_luc", "Bản sao lục", "Transcribed copy", "SL"),
)

DOCUMENT_TYPES: Mapping[str, DocumentType] = MappingProxyType({t.key: t for t in _TYPES})

# Lookup by abbreviation ignores case: typed notations often read "CTR" or "Ctr" for "CTr".
# The abbreviations stay distinct when upper-cased (CT/CTr, QĐ/QyĐ), so this is unambiguous.
_BY_ABBREVIATION: Mapping[str, DocumentType] = MappingProxyType(
    {t.abbreviation.upper(): t for t in _TYPES if t.abbreviation is not None}
)
assert len(_BY_ABBREVIATION) == sum(1 for t in _TYPES if t.abbreviation), "ambiguous abbreviation"

CONG_VAN = DOCUMENT_TYPES[CONG_VAN_KEY]


def document_type(key: str) -> DocumentType:
    """The type with this key; KeyError names the key and the known keys."""
    try:
        return DOCUMENT_TYPES[key]
    except KeyError:
        raise KeyError(
            f"unknown document type {key!r}; known: {', '.join(DOCUMENT_TYPES)}"
        ) from None


def type_by_abbreviation(abbreviation: str) -> DocumentType | None:
    """The type whose notation abbreviation this is (case-insensitive), or None."""
    return _BY_ABBREVIATION.get(abbreviation.upper())
