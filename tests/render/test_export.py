"""PNG and PDF export: valid files, and a PNG that is not blank."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET

import pytest
from PIL import Image, ImageStat

from journeylens.render.export import ExportUnavailableError, render_pdf, render_png
from journeylens.render.svg import render_map_svg
from journeylens.templates import get_template


@pytest.fixture(scope="module")
def svg() -> str:
    return render_map_svg(get_template("aida"))


def test_png_is_a_png_of_the_svg_size_and_not_blank(svg: str) -> None:
    data = render_png(svg)
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    image = Image.open(io.BytesIO(data)).convert("L")
    width = float(ET.fromstring(svg.encode("utf-8")).get("width", "0"))
    assert image.width == round(width)
    # A blank picture has zero variance; a drawn map has dark text on light ground.
    assert ImageStat.Stat(image).stddev[0] > 20
    darkest = image.getextrema()[0]
    assert isinstance(darkest, int)
    assert darkest < 60  # there is dark ink (text)


def test_png_scale_doubles_the_pixels() -> None:
    small = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="9" height="9"/></svg>'
    one = Image.open(io.BytesIO(render_png(small)))
    two = Image.open(io.BytesIO(render_png(small, scale=2)))
    assert two.width == 2 * one.width


def test_pdf_is_a_one_page_pdf(svg: str) -> None:
    data = render_pdf(svg)
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    assert (
        data.count(b"/Type /Page\n") + data.count(b"/Type /Page ") + data.count(b"/Type/Page") >= 1
    )


def test_missing_cairosvg_names_the_extra(monkeypatch: pytest.MonkeyPatch, svg: str) -> None:
    def missing(name: str) -> None:
        raise ImportError(f"No module named {name!r}")

    monkeypatch.setattr("journeylens.render.export.importlib.import_module", missing)
    with pytest.raises(ExportUnavailableError, match=r"pip install 'journeylens\[pdf\]'"):
        render_png(svg)
