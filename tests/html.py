"""Reading our HTML in tests: a small element tree (standard library only) and the two places a message can
land — beside a field, in the field's error element, or in a flash at the top of the page."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Element:
    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None = None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Element | str] = []

    @property
    def classes(self) -> set[str]:
        return set((self.attrs.get("class") or "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children).strip()

    def iter(self):
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs) -> list[Element]:
        return [
            e
            for e in self.iter()
            if (tag is None or e.tag == tag)
            and (cls is None or cls in e.classes)
            and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def closest(self, cls: str | None = None, tag: str | None = None) -> Element | None:
        node = self.parent
        while node is not None:
            if (cls is None or cls in node.classes) and (tag is None or node.tag == tag):
                return node
            node = node.parent
        return None


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.current = self.root

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {k: v or "" for k, v in attrs}, self.current)
        self.current.children.append(element)
        if tag not in VOID:
            self.current = element

    def handle_startendtag(self, tag, attrs):
        self.current.children.append(Element(tag, {k: v or "" for k, v in attrs}, self.current))

    def handle_endtag(self, tag):
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:  # close it (and anything left open inside it)
            self.current = node.parent

    def handle_data(self, data):
        self.current.children.append(data)


def parse(page: str) -> Element:
    builder = _Builder()
    builder.feed(page)
    builder.close()
    return builder.root


def field_errors(page: str, name: str, form: str | dict | None = None) -> list[str]:
    """The messages shown beside the input named `name`: the error elements of its field's box — the closest
    element with class `field`, as our form macro draws it, or the input's form when it is drawn by hand.
    `form` picks the form: its data-form name, or a dict of its attributes (e.g. its action). Raises LookupError
    when the page has no such form or input (so a test expecting a failure cannot fail for that reason)."""
    root = parse(page)
    if form is not None:
        attrs = {"data-form": form} if isinstance(form, str) else form
        forms = root.find_all("form", **attrs)
        if not forms:
            raise LookupError(f"no form {attrs} on the page")
        root = forms[0]
    inputs = [
        e for e in root.iter() if e.tag in ("input", "select", "textarea") and e.attrs.get("name") == name
    ]
    if not inputs:
        raise LookupError(f"no input named {name!r} on the page")
    box = inputs[0].closest(cls="field") or inputs[0].closest(tag="form")
    if box is None:
        raise LookupError(f"the input {name!r} is in no field box and no form")
    return [e.text() for e in box.find_all(cls="error")]


def flashes(page: str) -> list[str]:
    return [e.text() for e in parse(page).find_all(cls="flash")]
