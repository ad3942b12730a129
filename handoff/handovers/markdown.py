"""Markdown typed by people (intended use, limitations, comments), rendered
to HTML and sanitised: nothing typed there can run in a reader's browser.

``@username`` in the text is a mention. The same Markdown pass finds them
for the services (``mentioned_usernames``) and links them on the page, so a
mention inside code is neither told nor linked. Only the names the caller
gives a link for become links; every other one stays text, and nh3 cleans
the whole result last either way."""

import xml.etree.ElementTree as etree

import markdown as markdown_lib
import nh3
from django.utils.safestring import SafeString, mark_safe
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.util import AtomicString

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3", "h4",
    "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td", "th",
    "thead", "tr", "ul",
}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "abbr": {"title"}, "th": {"align"}, "td": {"align"}}

# "@" then a username (letters, digits and . + - _ as Django allows), not
# ending in punctuation ("thanks @eli." mentions eli), and not inside a word
# or an address ("dana@example.org" mentions no one).
MENTION = r"(?<![\w@.+-])@(\w(?:[\w.+-]*\w)?)"


class _MentionProcessor(InlineProcessor):
    def __init__(self, seen, link_for):
        super().__init__(MENTION)
        self.seen = seen
        self.link_for = link_for

    def handleMatch(self, match, data):  # noqa: N802 - Markdown's name
        username = match.group(1)
        if username not in self.seen:
            self.seen.append(username)
        href = self.link_for(username) if self.link_for else None
        if not href:
            return None, None, None  # stays text, escaped like any other
        link = etree.Element("a")
        link.set("href", href)
        link.set("title", f"@{username}")
        link.text = AtomicString(f"@{username}")
        return link, match.start(0), match.end(0)


class _Mentions(Extension):
    def __init__(self, seen, link_for):
        super().__init__()
        self.seen = seen
        self.link_for = link_for

    def extendMarkdown(self, md):  # noqa: N802 - Markdown's name
        # After code spans, links and automatic links (higher numbers run first).
        md.inlinePatterns.register(_MentionProcessor(self.seen, self.link_for), "mention", 105)


def _to_html(text, link_for=None):
    seen = []
    html = markdown_lib.markdown(str(text), extensions=["extra", "sane_lists", _Mentions(seen, link_for)],
                                 output_format="html")
    return html, seen


def mentioned_usernames(text):
    """The usernames ``@mentioned`` in ``text``, in order, each once (none in code)."""
    if not text or "@" not in str(text):
        return []
    return _to_html(text)[1]


def render_markdown(text, *, mention_link=None) -> SafeString:
    """HTML for ``text`` as Markdown; raw HTML, scripts, event handlers and
    ``javascript:`` links are removed. ``mention_link(username)`` gives the
    link of a mention, or None to leave it as text."""
    if not text:
        return mark_safe("")  # noqa: S308 - empty string
    html, _ = _to_html(text, mention_link)
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
