"""The canonical YAML text written by libyaml's C emitter, for the documents where it is
provably the same text as the canonical writer's (ruamel, :func:`journeylens.formats.io.dumps_yaml`).

ruamel's writer is pure Python: ~50 ms for a five-stage map, held under the GIL, on
every saved version. libyaml writes the same document in a few milliseconds. The two
differ in three known ways, each handled here:

- *Sequence indentation.* ruamel indents a list under its key (``key:\\n  - a``);
  libyaml writes it flush (``key:\\n- a``). :func:`_indent_sequences` shifts every line of
  such a list by two columns per enclosing list, reading the structure from the
  indentation (every line is a key, a ``-`` item or the body of a ``|`` block).
- *Quote choice.* ruamel double-quotes a non-plain text that holds ``'``; libyaml
  single-quotes it (``'it''s'``). Such texts are given the double-quoted style here.
- *Typing of plain scalars.* The decision "can this text be written unquoted" uses
  ruamel's YAML 1.2 resolvers (``yes`` and ``012`` are text in YAML 1.2, so unquoted).

Anything outside what the hypothesis tests (``tests/formats/test_yaml_c_writer.py``)
compare byte for byte against ruamel makes :func:`dumps` return ``None`` and the caller
uses ruamel: a ``None`` value, a list directly in a list, a non-identifier key, a
control or special line-break character, a multi-line text not written as a plain
``|`` block, a float that is not finite.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any

try:  # PyYAML's C extension; without it every document takes ruamel
    from yaml.cyaml import CEmitter
    from yaml.events import (
        DocumentEndEvent,
        DocumentStartEvent,
        MappingEndEvent,
        MappingStartEvent,
        ScalarEvent,
        StreamEndEvent,
        StreamStartEvent,
    )
    from yaml.nodes import MappingNode, ScalarNode, SequenceNode
except ImportError:  # pragma: no cover - PyYAML is a dependency; its C part may be absent
    CEmitter = None

STR = "tag:yaml.org,2002:str"
INT = "tag:yaml.org,2002:int"
FLOAT = "tag:yaml.org,2002:float"
BOOL = "tag:yaml.org,2002:bool"
SEQ = "tag:yaml.org,2002:seq"
MAP = "tag:yaml.org,2002:map"
WIDTH = 1_000_000  # as dumps_yaml: never wrap
#: Longer texts are declined: a line near WIDTH would be folded, by each writer its own way.
MAX_TEXT = 100_000

#: Keys both writers put plain and unquoted: identifiers (field names, map ids).
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}\Z")
#: Characters of a text the comparison covers: printable, no tab, no line break but
#: ``\n``, no BOM, no private-use or surrogate code points, nothing beyond U+FFFF
#: (ruamel escapes an emoji in a double-quoted text; libyaml writes it plain).
_TEXT = re.compile("[\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\uf900-\ufefe\uff00-\ufffd]*\\Z")
#: A ``|`` / ``|-`` / ``|+`` block header ending a ``key: `` line. Blocks are only written
#: as mapping values (a block in a list is declined), and a plain text can neither hold
#: ``: `` nor start with ``|``, so this is never a text that merely ends in ``|`` (as
#: ``- a - |`` would be). ruamel writes no indentation hint when the text starts with
#: neither a space nor a line break; those texts are declined.
_BLOCK_HEADER = re.compile(r": \|[-+]?$")


class _DeclinedError(Exception):
    """The document holds something the byte-for-byte comparison does not cover."""


@functools.lru_cache(maxsize=1)
def _resolvers() -> dict[str, list[tuple[str, Any]]]:
    from journeylens.formats.io import _ruamel_12_resolvers

    return _ruamel_12_resolvers()


@functools.lru_cache(maxsize=16384)
def _implicit_tag(value: str) -> str:
    """The tag YAML 1.2 gives ``value`` written plain (ruamel's resolvers, in their order)."""
    for tag, rx in _resolvers().get(value[:1], []):
        if rx.match(value):
            return str(tag)
    return STR


if CEmitter is not None:

    class _Emitter(CEmitter):  # type: ignore[misc]
        """libyaml's emitter with ruamel's YAML 1.2 typing of plain scalars."""

        def resolve(self, kind: type[Any], value: Any, implicit: tuple[bool, bool]) -> str:
            """The tag a node would be read with: called by the C serializer to decide
            whether a scalar may be written plain (its tag is the one read back)."""
            if kind is ScalarNode:
                return _implicit_tag(value) if implicit[0] else STR
            return SEQ if kind is SequenceNode else MAP

        def descend_resolver(self, parent: Any, index: Any) -> None:
            """Path resolvers are not used."""

        def ascend_resolver(self) -> None:
            """Path resolvers are not used."""


@functools.lru_cache(maxsize=4096)
def _written_plain(value: str) -> bool:
    """Whether libyaml writes ``value`` unquoted as a block mapping value (texts repeat
    across the versions of a map, so the answer is kept)."""
    events = [
        StreamStartEvent(),
        DocumentStartEvent(explicit=False),
        MappingStartEvent(None, None, True, flow_style=False),
        ScalarEvent(None, STR, (True, True), "k"),
        ScalarEvent(None, STR, (True, True), value),
        MappingEndEvent(),
        DocumentEndEvent(explicit=False),
        StreamEndEvent(),
    ]
    from io import StringIO

    out = StringIO()
    emitter = _Emitter(out, allow_unicode=True, width=WIDTH)
    try:
        for event in events:
            emitter.emit(event)
    finally:
        emitter.dispose()
    return not out.getvalue().startswith(("k: '", 'k: "'))


_DECLINE = "decline"


@functools.lru_cache(maxsize=16384)
def _text_style(value: str) -> str | None:
    """The style ``value`` is given (``None``: libyaml's choice, plain or single-quoted),
    or ``_DECLINE``. Kept per text: most texts of a map are the same in every version."""
    if not _TEXT.match(value) or len(value) > MAX_TEXT:
        return _DECLINE
    if "\n" in value:
        # dumps_yaml writes these as ``|`` blocks (``_literal_multiline``); only the
        # simple case is covered: text starting and ending on non-blank characters, no
        # line starting or ending with a space.
        if value[0] in " \n" or value[-1] in " \t\n" or " \n" in value or "\n " in value:
            return _DECLINE
        return "|"
    if "'" in value and not _written_plain(value):
        return '"'  # ruamel's choice over '...'
    return None


def _text(value: str, in_sequence: bool) -> Any:
    style = _text_style(value)
    if style == _DECLINE or (style == "|" and in_sequence):  # a block as a list item
        raise _DeclinedError("text")
    return ScalarNode(STR, value, style=style)


@functools.lru_cache(maxsize=4096)
def _plain_key(key: str) -> bool:
    """Whether both writers put ``key`` plain: an identifier that reads back as text."""
    return bool(_KEY.match(key)) and _implicit_tag(key) == STR


def _node(value: Any, in_sequence: bool = False) -> Any:
    """The node of plain data ``value`` (``_DeclinedError`` outside the covered cases)."""
    if isinstance(value, str):
        return _text(value, in_sequence)
    if isinstance(value, bool):
        return ScalarNode(BOOL, "true" if value else "false")
    if isinstance(value, int):
        return ScalarNode(INT, str(value))
    if isinstance(value, float):
        text = repr(value).lower()
        if not math.isfinite(value) or _implicit_tag(text) != FLOAT:
            raise _DeclinedError("float")
        return ScalarNode(FLOAT, text)
    if isinstance(value, dict):
        pairs = []
        for key, item in value.items():
            if not isinstance(key, str) or not _plain_key(key):
                raise _DeclinedError("key")
            pairs.append((ScalarNode(STR, key), _node(item)))
        return MappingNode(MAP, pairs, flow_style=False)
    if isinstance(value, list):
        if in_sequence:
            raise _DeclinedError("list in list")
        return SequenceNode(SEQ, [_node(item, True) for item in value], flow_style=False)
    raise _DeclinedError(type(value).__name__)


def _indent_sequences(text: str) -> str:
    """libyaml's flush lists indented as ruamel writes them (``sequence=4, offset=2``).

    Each list that libyaml writes flush under its key (``-`` at the key's column) moves two
    columns right with everything inside it; lists inside it move again. The structure is
    read from the indentation: a ``-`` line opens or continues the list at its column, any
    other line closes the lists at or right of its column, and the lines of a ``|`` block
    (deeper than its key, or empty) keep their relative indentation.

    >>> print(_indent_sequences("a:\\n- x: 1\\n  y:\\n  - 2\\nb: 3\\n"), end="")
    a:
      - x: 1
        y:
          - 2
    b: 3
    """
    out: list[str] = []
    open_lists: list[int] = []  # columns of the flush lists enclosing the current line
    block_at: int | None = None  # column of the line that opened a ``|`` block
    block_shift = 0
    for line in text.split("\n"):
        stripped = line.lstrip(" ")
        column = len(line) - len(stripped)
        if block_at is not None:
            if not stripped or column > block_at:
                out.append(" " * block_shift + line if stripped else line)
                continue
            block_at = None
        if not stripped:
            out.append(line)
            continue
        dash = stripped.startswith("- ") or stripped == "-"
        while open_lists and (open_lists[-1] > column or (open_lists[-1] == column and not dash)):
            open_lists.pop()
        if dash and (not open_lists or open_lists[-1] != column):
            open_lists.append(column)
        shift = 2 * len(open_lists)
        out.append(" " * shift + line)
        if _BLOCK_HEADER.search(stripped):
            # The block's lines are deeper than its KEY, which on a ``- key: |`` line
            # stands two columns right of the dash (lists in lists are declined).
            block_at, block_shift = column + (2 if dash else 0), shift
    return "\n".join(out)


def dumps(data: dict[str, Any]) -> str | None:
    """The canonical YAML of plain data ``data`` (as ``dumps_yaml`` writes it), or
    ``None`` when the document holds something outside the cases proven identical."""
    if CEmitter is None:
        return None  # pragma: no cover
    try:
        root = _node(data)
    except _DeclinedError:
        return None
    from io import StringIO

    out = StringIO()
    emitter = _Emitter(out, allow_unicode=True, width=WIDTH, indent=2)
    try:
        emitter.open()
        emitter.serialize(root)
        emitter.close()
    finally:
        emitter.dispose()
    return _indent_sequences(out.getvalue())
