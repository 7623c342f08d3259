"""Markdown of content packs, rendered to HTML and sanitized at import (markdown-it-py, nh3).

Pack authors write Markdown; patients see only the tags and link schemes allowed here.
"""

import nh3
from markdown_it import MarkdownIt

# What sanitized section HTML may contain: the output of plain Markdown, nothing active.
ALLOWED_TAGS = {
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "em",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "br",
    "hr",
    "a",
    "code",
    "table",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
}


ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}}


URL_SCHEMES = {"https", "http", "mailto", "tel"}


class _Markdown(MarkdownIt):
    """CommonMark that hands every link and all raw HTML to the sanitizer.

    markdown-it would print refused links (`javascript:`) and raw HTML back as visible text,
    so that `<script>` or `onerror=` would show on the patient's page as words. Instead, they
    are rendered as HTML and nh3 then removes them: raw tags and their handlers disappear, script
    and style contents with them, and a link to a refused scheme loses its target.
    """

    def validateLink(self, url: str) -> bool:
        return True


_markdown = _Markdown("commonmark", {"html": True}).enable("table")


def markdown_to_html(text: str) -> str:
    """Render pack Markdown to HTML that holds no script, handler or raw markup."""
    return nh3.clean(
        _markdown.render(text),
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer",
    )
