"""Helpers for tests that use the HTML pages: a browser that signs in, and an HTML reader."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.factories import PASSWORD

SESSION_COOKIE = "wardflow_session"
LOGIN_CSRF_COOKIE = "wardflow_login_csrf"
HTMX = {"HX-Request": "true"}

_VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node | str] = field(default_factory=list)
    parent: Node | None = None

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        parts: list[str] = []
        for child in self.children:
            parts.append(child if isinstance(child, str) else child.text())
        return " ".join(" ".join(parts).split())

    def iter(self) -> Any:
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.iter()

    def find_all(
        self, tag: str | None = None, class_: str | None = None, **attrs: str
    ) -> list[Node]:
        found = []
        for node in self.iter():
            if tag is not None and node.tag != tag:
                continue
            if class_ is not None and class_ not in node.classes:
                continue
            if any(node.attrs.get(k.rstrip("_").replace("_", "-")) != v for k, v in attrs.items()):
                continue
            found.append(node)
        return found

    def find(self, tag: str | None = None, class_: str | None = None, **attrs: str) -> Node | None:
        found = self.find_all(tag, class_, **attrs)
        return found[0] if found else None

    def by_id(self, id_: str) -> Node:
        node = self.find(id=id_)
        assert node is not None, f"no element with id={id_!r}"
        return node

    def ancestor(self, class_: str) -> Node | None:
        node = self.parent
        while node is not None:
            if class_ in node.classes:
                return node
            node = node.parent
        return None


class _TreeBuilder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", {})
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs}, parent=self.current)
        self.current.children.append(node)
        if tag not in _VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, {k: v or "" for k, v in attrs}, parent=self.current))

    def handle_endtag(self, tag: str) -> None:
        node: Node | None = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(html: str) -> Node:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


def field_group(doc: Node, field_id: str) -> Node:
    """The NHS.UK form group that holds the input, select or textarea with this id."""
    control = doc.by_id(field_id)
    group = control.ancestor("nhsuk-form-group")
    assert group is not None, f"{field_id} is not inside a form group"
    return group


def field_error(doc: Node, field_id: str) -> str | None:
    """The error message shown beside a field, or None when the field shows no error."""
    group = field_group(doc, field_id)
    message = group.find(class_="nhsuk-error-message")
    if "nhsuk-form-group--error" not in group.classes or message is None:
        return None
    return message.text().removeprefix("Error:").strip()


_CSRF_INPUT = re.compile(r'<input type="hidden" name="csrf_token" value="([^"]*)"')


def hidden_csrf(html: str) -> str:
    match = _CSRF_INPUT.search(html)
    assert match, "the page has no csrf_token field"
    return match.group(1)


def set_cookie_headers(response: httpx.Response, name: str) -> list[str]:
    return [h for h in response.headers.get_list("set-cookie") if h.startswith(f"{name}=")]


class Browser:
    """One person's browser: its own cookies, signing in through the login form."""

    def __init__(self, app: Any, address: str = "127.0.0.1") -> None:
        # The address the app sees the browser connect from (sign-in throttling is by it).
        self.client = httpx.AsyncClient(
            transport=httpx.ASGITransport(
                app=app, raise_app_exceptions=False, client=(address, 50000)
            ),
            base_url="http://testserver",
        )
        self.csrf = ""

    async def aclose(self) -> None:
        await self.client.aclose()

    async def login_form(self, next_: str | None = None) -> tuple[httpx.Response, str]:
        response = await self.client.get("/login", params={"next": next_} if next_ else None)
        assert response.status_code == 200
        return response, hidden_csrf(response.text)

    async def submit_login(
        self, username: str, password: str = PASSWORD, next_: str | None = None
    ) -> httpx.Response:
        form, token = await self.login_form(next_)
        data = {"username": username, "password": password, "csrf_token": token}
        if next_ is not None:
            data["next"] = next_
        return await self.client.post("/login", data=data)

    async def sign_in(self, username: str, password: str = PASSWORD) -> Browser:
        response = await self.submit_login(username, password)
        assert response.status_code == 303, response.text
        account = await self.client.get("/account")
        assert account.status_code == 200
        self.csrf = hidden_csrf(account.text)
        return self

    @property
    def session_cookie(self) -> str | None:
        return self.client.cookies.get(SESSION_COOKIE)

    async def get(self, url: str, *, htmx: bool = False, **kwargs: Any) -> httpx.Response:
        headers = {**(HTMX if htmx else {}), **kwargs.pop("headers", {})}
        return await self.client.get(url, headers=headers, **kwargs)

    async def post(
        self,
        url: str,
        data: dict[str, Any] | None = None,
        *,
        htmx: bool = False,
        csrf: bool | str = True,
        **kwargs: Any,
    ) -> httpx.Response:
        headers = {**(HTMX if htmx else {}), **kwargs.pop("headers", {})}
        body = dict(data or {})
        if csrf is True:
            body["csrf_token"] = self.csrf
        elif isinstance(csrf, str):
            body["csrf_token"] = csrf
        return await self.client.post(url, data=body, headers=headers, **kwargs)
