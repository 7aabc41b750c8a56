"""Charts: the tables behind them are hand-computed; the SVG is well-formed and offline."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from journeylens.render.charts import (
    ConvertTime,
    DurationGroup,
    FlowLink,
    FunnelStep,
    OddsRatioRow,
    SurveyPoint,
    convert_time_chart,
    forest_plot,
    funnel_chart,
    sankey_chart,
    survey_trend_chart,
    time_to_convert_chart,
)


def _svg_ok(svg: str) -> ET.Element:
    root = ET.fromstring(svg.encode("utf-8"))
    for el in root.iter():
        assert el.tag.split("}")[-1] != "script"
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on")
            assert not value.startswith(("http://", "https://")) or name == "xmlns"
    return root


def test_funnel_table_hand_computed() -> None:
    chart = funnel_chart(
        [FunnelStep("Visit", 1000), FunnelStep("Sign up", 600), FunnelStep("Pay", 240)]
    )
    # conversion from step 1 = reached / 1000; step conversion = reached / previous.
    assert chart.rows == (
        ("Visit", "1,000", "100.0%", "—"),
        ("Sign up", "600", "60.0%", "60.0%"),
        ("Pay", "240", "24.0%", "40.0%"),
    )
    _svg_ok(chart.svg)


def test_time_to_convert_median_and_p90() -> None:
    # 1 … 10 hours: median (5 + 6) / 2 = 5.5 h; p90 = the 9th of 10 sorted values = 9 h.
    group = DurationGroup("all", tuple(3600.0 * h for h in range(10, 0, -1)))
    chart = time_to_convert_chart([group, DurationGroup("none", ())])
    assert chart.rows == (("all", "10", "5.5 h", "9.0 h"), ("none", "0", "—", "—"))
    _svg_ok(chart.svg)


def test_convert_time_summary() -> None:
    chart = convert_time_chart(
        [ConvertTime("Pay", 7200.0, 36000.0, 12), ConvertTime("Use", None, None, 0)]
    )
    assert chart.rows == (("Pay", "12", "2.0 h", "10.0 h"), ("Use", "0", "—", "—"))
    _svg_ok(chart.svg)


def test_survey_periods_with_too_few_answers_are_listed_not_drawn() -> None:
    chart = survey_trend_chart(
        [
            SurveyPoint("2026-01", "NPS", 20.0, 10.0, 30.0, 50),
            SurveyPoint("2026-02", "NPS", None, None, None, 4),
        ]
    )
    assert chart.rows[1] == ("2026-02", "NPS", "too few answers", "—", "4")
    _svg_ok(chart.svg)


def test_forest_rows() -> None:
    chart = forest_plot(
        [OddsRatioRow("live chat", 2.5, 1.8, 3.4, 0.001), OddsRatioRow("faq", 0.8, 0.5, 1.3)]
    )
    assert chart.rows == (
        ("live chat", "2.50", "1.80 … 3.40", "0.001"),
        ("faq", "0.80", "0.50 … 1.30", "—"),
    )
    _svg_ok(chart.svg)


def test_sankey_draws_forward_bands_and_lists_backtracks() -> None:
    evil = '<script>x</script>"'
    chart = sankey_chart(
        [
            FlowLink("A", "B", 80),
            FlowLink("B", evil, 40),
            FlowLink("B", "A", 5),
            FlowLink("A", "exit", 20),
        ],
        ["A", "B", evil],
    )
    root = _svg_ok(chart.svg)
    ns = "{http://www.w3.org/2000/svg}"
    bands = list(root.iter(f"{ns}path"))
    assert len(bands) == 3  # the backtrack B → A is not a band
    assert chart.rows[2] == ("B", "A", "5", "backtrack")
    labels = [el.text for el in root.iter(f"{ns}text")]
    # Node sizes: A = max(in 0, out 100); B = max(in 80, out 40); the evil node = 40 in.
    assert {"A (100)", "B (80)", f"{evil} (40)", "exit (20)"} <= set(labels)
    assert "backward flow" in chart.description
