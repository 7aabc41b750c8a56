"""Measured emotion (scores, sentiment column, VADER text) and channel use per persona."""

from __future__ import annotations

import pytest
from tests.analytics_b.conftest import Make
from tests.analytics_b.maps import shop_map

from journeylens.analytics.channels import channel_use
from journeylens.analytics.emotion import measured_emotion, vader_compound


def test_score_signals_on_the_map_scale(make: Make) -> None:
    # pay: NPS 0 → −2, CSAT 5 → +2, CES 1 → −2 → mean −2/3 (designed −1: gap +1/3)
    # confirm: CES 7 → +2
    lf = make(
        {
            "step_id": ["pay", "pay", "pay", "confirm", "browse"],
            "score": [0.0, 5.0, 1.0, 7.0, None],
            "score_type": ["nps", "csat", "ces", "ces", None],
            "sentiment": [None, None, None, None, 0.25],  # browse: 0.25 × 2 = 0.5
        }
    )
    r = measured_emotion(lf, journey_map=shop_map())
    assert [row.location for row in r.rows] == ["browse", "pay", "confirm"]  # map order
    pay = r.get("pay")
    assert pay is not None
    assert (pay.n, pay.n_scores, pay.n_texts) == (3, 3, 0)
    assert pay.measured == pytest.approx(-2 / 3)
    assert (pay.designed, pay.gap) == (-1.0, pytest.approx(1 / 3))
    browse = r.get("browse")
    assert browse is not None
    assert (browse.n_texts, browse.measured, browse.designed) == (1, 0.5, 1.0)
    stage = measured_emotion(lf, journey_map=shop_map(), level="stage")
    buy = stage.get("buy")
    assert buy is not None
    # stage buy: (−2 + 2 − 2 + 2)/4 = 0; designed = mean of pay −1 and confirm +2 = 0.5
    assert (buy.n, buy.measured, buy.designed) == (4, 0.0, 0.5)


def test_text_is_scored_with_vader(make: Make) -> None:
    texts = ["The checkout was great, fast and easy!", "Terrible. The payment failed again."]
    lf = make({"step_id": ["pay", "pay"], "text": texts, "score": [None, None]})
    r = measured_emotion(lf)
    pay = r.get("pay")
    assert pay is not None
    expected = 2 * sum(vader_compound(texts)) / 2
    assert (pay.n, pay.n_texts, pay.measured) == (2, 2, pytest.approx(expected))
    assert measured_emotion(lf, text_sentiment=False).rows == ()


def test_channel_use_per_persona(make: Make) -> None:
    # maya: a (web, web, app), b (web) → web 3/4 events, 2/2 units; app 1/4, 1/2
    # robert: c (phone) → 1/1, 1/1
    lf = make(
        {
            "unit_id": ["a", "a", "a", "b", "c"],
            "channel": ["web", "web", "app", "web", "phone"],
            "persona": ["maya"] * 4 + ["robert"],
        }
    )
    rows = [
        (r.persona, r.channel, r.events, r.share_of_events, r.units, r.share_of_units)
        for r in channel_use(lf).rows
    ]
    assert rows == [
        ("maya", "web", 3, 0.75, 2, 1.0),
        ("maya", "app", 1, 0.25, 1, 0.5),
        ("robert", "phone", 1, 1.0, 1, 1.0),
    ]
    assert channel_use(lf).to_frame().num_rows == 3
    no_persona = channel_use(make({"unit_id": ["a"], "channel": ["web"]}))
    assert [(r.persona, r.channel) for r in no_persona.rows] == [(None, "web")]
    with pytest.raises(ValueError, match="'channel' column"):
        channel_use(make({"unit_id": ["a"]}))
