"""A tiny escaping XML element builder for SVG output.

Why not string concatenation: every piece of user text (stage names, pain points, persona
quotes) goes through :func:`escape_text` / :func:`escape_attr`, so a map holding
``<script>`` or ``"><svg onload=…>`` renders as text. Why not ``xml.etree``: we want a
deterministic, pretty-printed serialisation with one element per line (golden files whose
diffs a person can read) and numbers written the same way on every machine.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from journeylens.render.text import clean_text

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:-]*$")

AttrValue = str | int | float


def fmt_number(value: float) -> str:
    """Write a coordinate deterministically: at most 2 decimals, no trailing zeros.

    >>> fmt_number(3.0), fmt_number(2.345), fmt_number(-0.0001)
    ('3', '2.35', '0')
    """
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def escape_text(text: str) -> str:
    """Escape character data: ``&``, ``<`` and ``>`` (so ``]]>`` cannot end anything).

    >>> escape_text('<script>&]]>')
    '&lt;script&gt;&amp;]]&gt;'
    """
    text = clean_text(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def escape_attr(text: str) -> str:
    """Escape an attribute value written between double quotes (also ``'`` and newlines).

    >>> escape_attr('"><svg onload=x>')
    '&quot;&gt;&lt;svg onload=x&gt;'
    """
    return escape_text(text).replace('"', "&quot;").replace("'", "&#39;").replace("\n", "&#10;")


class El:
    """One XML element: tag, attributes in insertion order, text or children.

    Attribute names are the renderer's own constants (checked against a pattern); only
    values and text carry user input, and both are escaped on output.
    """

    __slots__ = ("attrs", "children", "tag", "text")

    def __init__(self, tag: str, text: str | None = None, /, **attrs: AttrValue | None) -> None:
        if not _NAME.match(tag):
            raise ValueError(f"invalid XML tag name {tag!r}")
        self.tag = tag
        self.text = text
        self.attrs: dict[str, str] = {}
        self.children: list[El] = []
        self.set(**attrs)

    def set(self, **attrs: AttrValue | None) -> El:
        """Set attributes; ``font_size`` is written ``font-size``, ``class_`` as ``class``.

        ``None`` values are left out, numbers are written with :func:`fmt_number`.
        """
        for key, value in attrs.items():
            if value is None:
                continue
            name = key.rstrip("_").replace("__", ":").replace("_", "-")
            if not _NAME.match(name):
                raise ValueError(f"invalid XML attribute name {name!r}")
            if isinstance(value, bool):
                raise TypeError(f"attribute {name!r}: write booleans as strings")
            self.attrs[name] = fmt_number(value) if isinstance(value, int | float) else value
        return self

    def add(self, child: El) -> El:
        """Append ``child`` and return it."""
        self.children.append(child)
        return child

    def sub(self, tag: str, text: str | None = None, /, **attrs: AttrValue | None) -> El:
        """Create a child element, append it and return it."""
        return self.add(El(tag, text, **attrs))

    def iter(self) -> Iterator[El]:
        """This element and all its descendants, depth first."""
        yield self
        for child in self.children:
            yield from child.iter()

    def _open(self) -> str:
        attrs = "".join(f' {k}="{escape_attr(v)}"' for k, v in self.attrs.items())
        return f"<{self.tag}{attrs}"

    def lines(self, depth: int = 0) -> Iterator[str]:
        """Serialised lines, two spaces of indent per level, one element per line."""
        pad = "  " * depth
        if not self.children:
            if self.text is None:
                yield f"{pad}{self._open()}/>"
            else:
                yield f"{pad}{self._open()}>{escape_text(self.text)}</{self.tag}>"
            return
        yield f"{pad}{self._open()}>"
        if self.text is not None:
            yield f"{pad}  {escape_text(self.text)}"
        for child in self.children:
            yield from child.lines(depth + 1)
        yield f"{pad}</{self.tag}>"

    def to_string(self) -> str:
        """The element as pretty-printed XML text ending in a newline."""
        return "\n".join(self.lines()) + "\n"
