"""What a visible signature looks like and where it sits on the page.

Decree 30 (Appendix I): the signer's digital signature is shown centred between the signer's
position and name (the image of the handwritten signature, blue, if the agency has one); the
organisation's is the image of its seal, red, at the seal's real size, covering about the left
third of the signer's. We draw each appearance as one transparent PNG with Pillow and the DejaVu
fonts, because pyHanko's text stamps need uharfbuzz (not installed) for any font beyond the
Latin-1 core fonts, and Vietnamese names need more than Latin-1.

The signing time in the appearance is pyHanko's own signing time (the one in the CMS signed
attributes): the stamp style below is asked for the picture at signing, with that time.
"""

from __future__ import annotations

import io
import textwrap
from dataclasses import dataclass, field
from datetime import datetime

from PIL import Image, ImageDraw, ImageFont
from pyhanko.pdf_utils import layout
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import StaticStampStyle, TextStampStyle
from pyhanko.stamp.static import StaticContentStamp

from services.documents.rendering.fonts import dejavu, nfc
from shared.vietnam_time import VIETNAM_TIME

# Vietnam keeps UTC+7 all year; a fixed offset avoids depending on a tz database.
SIGNER_BLUE = (0, 51, 160, 255)
SEAL_TEXT_RED = (190, 16, 36, 255)
PIXELS_PER_POINT = 3.0  # about 216 dpi: sharp on screen and in print, small in the file
MM = 72 / 25.4
SEAL_DIAMETER = 36 * MM  # the common size of a Department's seal

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in PDF points from the bottom left


@dataclass(frozen=True)
class Placement:
    """Where a visible signature goes: `page` from 0 (negative counts from the end)."""

    page: int
    box: Box

    @property
    def width(self) -> float:
        return self.box[2] - self.box[0]

    @property
    def height(self) -> float:
        return self.box[3] - self.box[1]


@dataclass(frozen=True)
class Appearance:
    """An image (signature or seal) above lines of text; "{time}" in a line is the signing time.

    `image_png` fills what the lines leave of the box; with no lines it fills the whole box.
    """

    lines: tuple[str, ...] = ()
    image_png: bytes | None = None
    color: tuple[int, int, int, int] = SIGNER_BLUE
    font_points: float = 8.0
    # Fraction of the box width kept free of text on the left: the seal covers that third.
    text_left: float = 0.0


def person_appearance(
    name: str, position: str | None, *, handwriting_png: bytes | None = None
) -> Appearance:
    lines = [f"Ký bởi: {name}"]
    if position:
        lines.append(position)
    lines.append("Thời gian ký: {time}")
    return Appearance(
        lines=tuple(lines), image_png=handwriting_png, color=SIGNER_BLUE, text_left=1 / 3
    )


def seal_appearance(seal_png: bytes, *, notation: str | None = None) -> Appearance:
    # The seal alone, as Decree 30 shows it; the notation under it names the issued document
    # on a PDF whose text was written before the number existed (an uploaded draft).
    lines = (f"Số: {notation}", "{time}") if notation else ()
    return Appearance(lines=lines, image_png=seal_png, color=SEAL_TEXT_RED, font_points=6.5)


def format_signing_time(moment: datetime) -> str:
    """ISO 8601 in Vietnam time, as Decree 30 asks for the time shown with a signature."""
    return moment.astimezone(VIETNAM_TIME).replace(microsecond=0).isoformat()


def render_appearance(
    appearance: Appearance, width_pt: float, height_pt: float, signed_at: datetime
) -> Image.Image:
    """The appearance as an RGBA image of the box's proportions, transparent where blank."""
    width, height = round(width_pt * PIXELS_PER_POINT), round(height_pt * PIXELS_PER_POINT)
    image = Image.new("RGBA", (max(width, 1), max(height, 1)), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    font_px = round(appearance.font_points * PIXELS_PER_POINT)
    font = ImageFont.truetype(str(dejavu("sans").regular), font_px)
    when = format_signing_time(signed_at)
    # Wrap each line to the box width (a long organisation or position name must not overflow).
    text_x = round(width * appearance.text_left)
    text_width = width - text_x
    chars_per_line = max(8, int(text_width / (font_px * 0.55)))
    wrapped: list[str] = []
    for line in appearance.lines:
        wrapped += textwrap.wrap(nfc(line.replace("{time}", when)), chars_per_line) or [""]
    line_height = round(font_px * 1.25)
    text_height = line_height * len(wrapped)
    if appearance.image_png is not None:
        picture = Image.open(io.BytesIO(appearance.image_png)).convert("RGBA")
        room = (width, max(height - text_height, 1))
        picture.thumbnail(room, Image.Resampling.LANCZOS)
        image.alpha_composite(
            picture, ((width - picture.width) // 2, (room[1] - picture.height) // 2)
        )
    # Under the picture if there is one; otherwise in the middle of the box.
    top = height - text_height if appearance.image_png is not None else (height - text_height) // 2
    for number, line in enumerate(wrapped):
        draw.text(
            (text_x + text_width / 2, top + number * line_height),
            line,
            font=font,
            fill=appearance.color,
            anchor="ma",
        )
    return image


@dataclass(frozen=True)
class RenderedAppearanceStyle(TextStampStyle):
    """A stamp style that asks `render_appearance` for the picture when pyHanko signs.

    It subclasses TextStampStyle only because pyHanko hands the signing time ("ts") to text
    styles alone; the picture replaces the text stamp entirely.
    """

    appearance: Appearance = field(default_factory=Appearance)
    timestamp_format: str = "%Y-%m-%dT%H:%M:%S%z"
    border_width: int = 0

    def create_stamp(  # type: ignore[override]
        self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict[str, str]
    ) -> StaticContentStamp:
        signed_at = datetime.strptime(text_params["ts"], self.timestamp_format)
        picture = render_appearance(self.appearance, box.width, box.height, signed_at)
        style = StaticStampStyle(
            background=PdfImage(picture),
            background_opacity=1.0,
            border_width=0,
            background_layout=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MID,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins.uniform(0),
            ),
        )
        return StaticContentStamp(writer=writer, style=style, box=box)


def default_placements(page_width: float, page_height: float) -> tuple[Placement, Placement]:
    """Person and seal boxes on the last page when the PDF's layout is not known (an upload).

    The signer's box sits in the bottom right quarter, where Decree 30 puts the signature; the
    seal covers the left third of it. A PDF made by services.documents.rendering knows better
    and passes its own boxes.
    """
    right = page_width - 20 * MM
    person = (right - 70 * MM, 25 * MM, right, 25 * MM + 28 * MM)
    return Placement(-1, person), seal_over(Placement(-1, person))


def seal_over(person: Placement, *, with_lines: int = 0, font_points: float = 6.5) -> Placement:
    """The seal's box: its right edge a third into the signer's box, centred on it vertically.

    `with_lines` lines of text under the seal lengthen the box downwards, so the seal itself
    keeps its real size.
    """
    x1, y1, _, y2 = person.box
    right = x1 + person.width / 3
    middle = (y1 + y2) / 2
    below = with_lines * font_points * 1.25
    box = (
        right - SEAL_DIAMETER,
        middle - SEAL_DIAMETER / 2 - below,
        right,
        middle + SEAL_DIAMETER / 2,
    )
    return Placement(person.page, box)
