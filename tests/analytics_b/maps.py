"""Small journey maps shared by the part-B tests."""

from __future__ import annotations

from journeylens.model import JourneyMap


def shop_map() -> JourneyMap:
    """Three stages: look (browse), buy (pay, confirm), use (onboard); one touchpoint a step.

    Designed emotions: browse +1, pay −1, confirm +2, onboard 0.
    """
    return JourneyMap.model_validate(
        {
            "id": "shop",
            "title": "Shop",
            "stages": [
                {"id": "look", "name": "Look", "steps": [
                    {"id": "browse", "name": "Browse", "emotion": {"score": 1},
                     "touchpoints": [{"id": "site", "name": "Site", "channel": "web",
                                      "match": [{"event": "page_view"}]}]},
                ]},
                {"id": "buy", "name": "Buy", "steps": [
                    {"id": "pay", "name": "Pay", "emotion": {"score": -1},
                     "moment_of_truth": {"why": "money changes hands"},
                     "touchpoints": [{"id": "checkout", "name": "Checkout", "channel": "web",
                                      "match": [{"event": "checkout"}]}]},
                    {"id": "confirm", "name": "Confirm", "emotion": {"score": 2},
                     "touchpoints": [{"id": "receipt", "name": "Receipt", "channel": "email",
                                      "match": [{"event": "purchase"}]}]},
                ]},
                {"id": "use", "name": "Use", "steps": [
                    {"id": "onboard", "name": "Onboard", "emotion": {"score": 0},
                     "touchpoints": [{"id": "app_home", "name": "App home", "channel": "app",
                                      "match": [{"event": "app_open"}]}]},
                ]},
            ],
            "outcomes": [
                {"id": "converted", "name": "Converted", "did": {"event": "purchase"}},
            ],
        }
    )  # fmt: skip
