"""One small inline SVG glyph per channel (14 × 14 px), told apart by shape, not colour."""

from __future__ import annotations

from journeylens.model.common import Channel
from journeylens.render.xml import El

ICON_SIZE = 14
_STROKE = "#222222"


def channel_icon(channel: Channel, x: float, y: float) -> El:
    """A ``<g>`` drawing ``channel``'s glyph with its top-left corner at (x, y).

    The group carries a ``<title>`` naming the channel so screen readers announce it.
    """
    g = El(
        "g",
        transform=f"translate({_n(x)},{_n(y)})",
        fill="none",
        stroke=_STROKE,
        stroke_width="1.3",
        stroke_linecap="round",
        stroke_linejoin="round",
        class_="icon",
    )
    g.sub("title", channel.value.replace("_", " "))
    _GLYPHS.get(channel, _other)(g)
    return g


def _n(v: float) -> str:
    return f"{v:.2f}".rstrip("0").rstrip(".")


def _web(g: El) -> None:
    g.sub("circle", cx=7, cy=7, r=6)
    g.sub("ellipse", cx=7, cy=7, rx=2.5, ry=6)
    g.sub("line", x1=1, y1=7, x2=13, y2=7)


def _app(g: El) -> None:
    g.sub("rect", x=3, y=0.5, width=8, height=13, rx=1.5)
    g.sub("line", x1=6, y1=11, x2=8, y2=11)


def _email(g: El) -> None:
    g.sub("rect", x=0.5, y=2.5, width=13, height=9, rx=1)
    g.sub("polyline", points="0.5,3 7,8 13.5,3")


def _social(g: El) -> None:
    g.sub("circle", cx=4.5, cy=4, r=2.2)
    g.sub("circle", cx=10, cy=4, r=2.2)
    g.sub("path", d="M0.5 13 Q4.5 6 8.5 13 M5.5 13 Q10 6 13.5 13")


def _ads(g: El) -> None:
    g.sub("path", d="M1 5 L1 9 L4 9 L11 13 L11 1 L4 5 Z")
    g.sub("line", x1=4, y1=9, x2=5, y2=13)


def _search(g: El) -> None:
    g.sub("circle", cx=5.5, cy=5.5, r=4.5)
    g.sub("line", x1=9, y1=9, x2=13.5, y2=13.5)


def _store(g: El) -> None:
    g.sub("path", d="M0.5 6 L7 1 L13.5 6")
    g.sub("rect", x=2, y=6, width=10, height=7.5)
    g.sub("rect", x=5.5, y=9, width=3, height=4.5)


def _phone(g: El) -> None:
    g.sub("path", d="M2 1 L5 1 L6 4.5 L4.2 5.6 Q5.5 8.5 8.4 9.8 L9.5 8 L13 9 L13 12 Q5 13.5 2 1 Z")


def _live_chat(g: El) -> None:
    g.sub("path", d="M1 1.5 L13 1.5 L13 10 L6 10 L3 13 L3 10 L1 10 Z")
    for cx in (4.5, 7, 9.5):
        g.sub("circle", cx=cx, cy=6, r=0.6, fill=_STROKE)


def _chatbot(g: El) -> None:
    g.sub("rect", x=1.5, y=4, width=11, height=9, rx=2)
    g.sub("line", x1=7, y1=4, x2=7, y2=1)
    g.sub("circle", cx=5, cy=8, r=1, fill=_STROKE)
    g.sub("circle", cx=9, cy=8, r=1, fill=_STROKE)


def _sms(g: El) -> None:
    g.sub("path", d="M1 1.5 L13 1.5 L13 10 L11 10 L11 13 L8 10 L1 10 Z")
    g.sub("line", x1=3.5, y1=4.5, x2=10.5, y2=4.5)
    g.sub("line", x1=3.5, y1=7, x2=8.5, y2=7)


def _print(g: El) -> None:
    g.sub("path", d="M2 0.5 L9 0.5 L12 3.5 L12 13.5 L2 13.5 Z")
    g.sub("line", x1=4, y1=6, x2=10, y2=6)
    g.sub("line", x1=4, y1=8.5, x2=10, y2=8.5)
    g.sub("line", x1=4, y1=11, x2=8, y2=11)


def _partner(g: El) -> None:
    g.sub("circle", cx=5, cy=7, r=4.3)
    g.sub("circle", cx=9, cy=7, r=4.3)


def _in_person(g: El) -> None:
    g.sub("circle", cx=7, cy=3.5, r=2.8)
    g.sub("path", d="M1.5 13.5 Q7 4.5 12.5 13.5")


def _other(g: El) -> None:
    g.sub("circle", cx=7, cy=7, r=6)
    g.sub("circle", cx=7, cy=7, r=1.3, fill=_STROKE)


_GLYPHS = {
    Channel.WEB: _web,
    Channel.APP: _app,
    Channel.EMAIL: _email,
    Channel.SOCIAL: _social,
    Channel.ADS: _ads,
    Channel.SEARCH: _search,
    Channel.STORE: _store,
    Channel.PHONE: _phone,
    Channel.LIVE_CHAT: _live_chat,
    Channel.CHATBOT: _chatbot,
    Channel.SMS: _sms,
    Channel.PRINT: _print,
    Channel.PARTNER: _partner,
    Channel.IN_PERSON: _in_person,
    Channel.OTHER: _other,
}
