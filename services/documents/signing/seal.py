"""A round red seal image, drawn locally for the test organisation (or any organisation that
has not configured the image of its real seal, DOCUMENTS_SEAL_IMAGE).

Decree 30 (Appendix I) shows the organisation's digital signature as the image of its seal:
red, at the real size of the seal, a PNG with a transparent background. A Vietnamese seal is
two rings with the superior body's name around the outer band, a star at the bottom, and the
organisation's own name across the centre. Drawn with Pillow and DejaVu Sans; no files shipped.
"""

from __future__ import annotations

import io
import math
import textwrap
from functools import cache

from PIL import Image, ImageDraw, ImageFont

from services.documents.rendering.fonts import dejavu, nfc

SEAL_RED = (206, 17, 38, 235)
# At most this much of the ring carries text; the rest, at the bottom, holds the star.
MAX_RING_TEXT_DEGREES = 290.0


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    points = []
    for index in range(10):
        r = radius if index % 2 == 0 else radius * 0.4
        angle = -math.pi / 2 + index * math.pi / 5  # the first point straight up (y grows down)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def _arc_text(image: Image.Image, text: str, *, radius: float, size: int) -> None:
    """`text` upright around the top of the circle centred in `image`, reading clockwise."""
    font = ImageFont.truetype(str(dejavu("sans").bold), size)
    widths = [font.getlength(char) for char in text]
    natural = sum(widths)
    span = min(math.radians(MAX_RING_TEXT_DEGREES) * radius, natural * 1.6)
    gap = (span - natural) / max(len(text) - 1, 1) if span > natural else 0.0
    total = natural + gap * (len(text) - 1)
    cx, cy = image.width / 2, image.height / 2
    position = -total / 2
    for char, width in zip(text, widths, strict=True):
        angle = (position + width / 2) / radius  # radians clockwise from the top
        position += width + gap
        if char.isspace():
            continue
        tile = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(tile).text((size, size), char, font=font, fill=SEAL_RED, anchor="mm")
        tile = tile.rotate(-math.degrees(angle), resample=Image.Resampling.BICUBIC)
        x = cx + radius * math.sin(angle) - tile.width / 2
        y = cy - radius * math.cos(angle) - tile.height / 2
        image.alpha_composite(tile, (round(x), round(y)))


def draw_seal(organisation: str, superior: str | None = None, *, pixels: int = 600) -> Image.Image:
    """The seal as an RGBA image `pixels` wide, transparent outside the ink."""
    organisation, superior = nfc(organisation).upper(), nfc(superior or "").upper()
    scale = 2  # drawn at twice the size and reduced, which smooths the circles
    size = pixels * scale
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    outer = size / 2 - size * 0.02
    draw.ellipse(
        (size / 2 - outer, size / 2 - outer, size / 2 + outer, size / 2 + outer),
        outline=SEAL_RED,
        width=round(size * 0.028),
    )
    inner = outer * 0.70
    draw.ellipse(
        (size / 2 - inner, size / 2 - inner, size / 2 + inner, size / 2 + inner),
        outline=SEAL_RED,
        width=round(size * 0.012),
    )
    band_size = round(size * 0.07)
    if superior:
        _arc_text(image, superior, radius=(outer + inner) / 2 - band_size * 0.05, size=band_size)
    _star(draw, size / 2, size / 2 + (outer + inner) / 2, band_size * 0.55)
    # The organisation's name across the centre, on as few lines as fit inside the inner ring.
    lines = textwrap.wrap(organisation, width=12) or [""]
    font_size = round(size * 0.072)
    font = ImageFont.truetype(str(dejavu("sans").bold), font_size)
    while font_size > 8 and max(font.getlength(line) for line in lines) > inner * 1.7:
        font_size -= 2
        font = ImageFont.truetype(str(dejavu("sans").bold), font_size)
    line_height = font_size * 1.25
    top = size / 2 - line_height * (len(lines) - 1) / 2
    for number, line in enumerate(lines):
        draw.text(
            (size / 2, top + number * line_height), line, font=font, fill=SEAL_RED, anchor="mm"
        )
    return image.resize((pixels, pixels), Image.Resampling.LANCZOS)


@cache
def seal_png(organisation: str, superior: str | None = None, pixels: int = 600) -> bytes:
    """draw_seal as PNG bytes (cached: the same organisation's seal is drawn once)."""
    buffer = io.BytesIO()
    draw_seal(organisation, superior, pixels=pixels).save(buffer, format="PNG")
    return buffer.getvalue()
