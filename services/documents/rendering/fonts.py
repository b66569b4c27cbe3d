"""The DejaVu fonts that official documents, seals and signature appearances are drawn with.

Vietnamese needs a font with its precomposed letters (ệ, ữ, ặ, ...): the PDF core fonts are
Latin-1 only. Decree 30 asks for a Times New Roman-like serif, which is not free to ship;
DejaVu Serif is its nearest free relative and carries every Vietnamese letter. The files come
from the matplotlib wheel (mpl-data) or Debian's fonts-dejavu-core, whichever is installed, so
nothing is downloaded at run time. (records' transcript does the same; services share no code.)
"""

from __future__ import annotations

import importlib.util
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DEBIAN_FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")


class FontsUnavailable(RuntimeError):
    """No DejaVu font with Vietnamese glyphs is installed."""


@dataclass(frozen=True)
class FontSet:
    regular: Path
    bold: Path
    italic: Path
    bold_italic: Path


_FAMILIES = {
    "serif": (
        "DejaVuSerif.ttf",
        "DejaVuSerif-Bold.ttf",
        "DejaVuSerif-Italic.ttf",
        "DejaVuSerif-BoldItalic.ttf",
    ),
    "sans": (
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ),
}


def _font_dirs() -> Iterator[Path]:
    # find_spec locates matplotlib without importing it (importing it is slow and writes a
    # config directory); only its bundled font files are used.
    spec = importlib.util.find_spec("matplotlib")
    for location in (spec.submodule_search_locations or []) if spec else []:
        yield Path(location) / "mpl-data" / "fonts" / "ttf"
    yield DEBIAN_FONT_DIR


@cache
def dejavu(family: str = "serif") -> FontSet:
    """The four faces of DejaVu `family` ("serif" or "sans"), or FontsUnavailable."""
    names = _FAMILIES[family]
    for folder in _font_dirs():
        paths = [folder / name for name in names]
        if all(path.is_file() for path in paths):
            return FontSet(*paths)
    raise FontsUnavailable(
        "no DejaVu font found: install the matplotlib wheel or Debian's fonts-dejavu-core"
    )


def nfc(text: str) -> str:
    # Text from other software may be decomposed (NFD); the fonts' precomposed glyphs are NFC.
    return unicodedata.normalize("NFC", text)
