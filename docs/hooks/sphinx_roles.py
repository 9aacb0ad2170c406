"""MkDocs hook: render the Sphinx roles of alsrec's numpydoc docstrings as links.

The docstrings refer to other objects with roles such as ``:class:`~alsrec.Recommender```
or ``:meth:`fit```, which read well in ``help()`` and in editors. mkdocstrings renders
docstrings as Markdown, where a role comes out as the literal text ``:class:`` followed
by code. After every page is rendered, and before mkdocs-autorefs resolves references,
this hook replaces each role with a reference to the documented object it names (found
relative to the object whose docstring holds it, as Sphinx would), or with plain code
when the site does not document that object. A paragraph ending in reST's literal-block
marker ``::`` gets a single colon.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING, Any

from mkdocs.plugins import event_priority

if TYPE_CHECKING:
    from jinja2 import Environment
    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.structure.files import Files

ROLE = re.compile(
    r":(?:func|class|meth|attr|data|mod|exc|obj):<code>(?P<body>[^<]*)</code>",
)
EXPLICIT = re.compile(r"(?P<title>.*?)\s*&lt;(?P<target>[^&]+)&gt;\Z")
HEADING_ID = re.compile(r'<h\d id="(?P<id>alsrec(?:\.\w+)*)"')
LITERAL_MARKER = re.compile(r"::</p>")


def _parents(path: str) -> list[str]:
    """``a.b.c`` -> ``["a.b.c", "a.b", "a"]``."""
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)]


def _resolve(target: str, context: str | None, exists: Any) -> str | None:
    """The documented identifier ``target`` names when written in ``context``'s docstring."""
    candidates = [] if context is None else [f"{scope}.{target}" for scope in _parents(context)]
    candidates += [target, f"alsrec.{target}"]
    for candidate in candidates:
        # Only API objects: a bare word could also be the anchor of a guide's heading.
        if candidate.startswith("alsrec.") and exists(candidate):
            return candidate
    return None


def _rewrite(html: str, exists: Any) -> str:
    headings = [(m.start(), m.group("id")) for m in HEADING_ID.finditer(html)]

    def context_at(position: int) -> str | None:
        found = None
        for start, identifier in headings:
            if start > position:
                break
            found = identifier
        return found

    def replace(match: re.Match[str]) -> str:
        body = match.group("body")
        explicit = EXPLICIT.match(body)
        if explicit:
            title, target = explicit.group("title"), explicit.group("target")
        else:
            target = body.lstrip("~")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target
        target = target.strip().lstrip(".")
        identifier = _resolve(target, context_at(match.start()), exists)
        code = f"<code>{title}</code>"
        if identifier is None:
            return code
        return f'<autoref identifier="{escape(identifier)}" optional>{code}</autoref>'

    html = ROLE.sub(replace, html)
    return LITERAL_MARKER.sub(":</p>", html)


@event_priority(0)  # mkdocs-autorefs resolves references later, at priority -50
def on_env(env: Environment, /, *, config: MkDocsConfig, files: Files) -> Environment:
    """Rewrite the roles of every rendered page."""
    autorefs = config.plugins["autorefs"]

    def exists(identifier: str) -> bool:
        try:
            autorefs.get_item_url(identifier)  # type: ignore[attr-defined]
        except KeyError:
            return False
        return True

    for file in files:
        page = file.page
        if page is not None and page.content:
            page.content = _rewrite(page.content, exists)
    return env
