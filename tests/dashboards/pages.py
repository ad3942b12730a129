"""Reading the home page as a person does: section by section, and the navigation."""

from html.parser import HTMLParser


class HomePage(HTMLParser):
    """The page's sections (``data-section``), each with the text of every
    item it links (``data-item``) in order and its count (``data-total``), and
    the main navigation's links, as (text, href)."""

    def __init__(self, html):
        super().__init__(convert_charrefs=True)
        self.items, self.totals, self.hrefs, self.nav = {}, {}, {}, []
        self._section = self._tag = None
        self._depth = 0
        self._link = None  # (where it goes: "item" or "nav", href, text so far)
        self._in_nav = 0
        self.feed(html)
        self.close()

    @property
    def sections(self):
        return list(self.items)

    def nav_texts(self):
        return [text for text, _ in self.nav]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if self._section is None and "data-section" in attrs:
            self._section, self._tag, self._depth = attrs["data-section"], tag, 0
            self.items[self._section] = []
            if "data-total" in attrs:
                self.totals[self._section] = int(attrs["data-total"])
        if self._section is not None and tag == self._tag:
            self._depth += 1
        if tag == "nav" and attrs.get("id") == "main-nav":
            self._in_nav += 1
        if tag == "a":
            if self._section is not None and "data-item" in attrs:
                self._link = ["item", attrs.get("href"), ""]
            elif self._in_nav:
                self._link = ["nav", attrs.get("href"), ""]

    def handle_endtag(self, tag):
        if tag == "a" and self._link is not None:
            where, href, text = self._link
            text = " ".join(text.split())
            if where == "item":
                self.items[self._section].append(text)
                self.hrefs[text] = href
            else:
                self.nav.append((text, href))
            self._link = None
        if tag == "nav" and self._in_nav:
            self._in_nav -= 1
        if self._section is not None and tag == self._tag:
            self._depth -= 1
            if self._depth == 0:
                self._section = self._tag = None

    def handle_data(self, data):
        if self._link is not None:
            self._link[2] += data
