"""The operator dashboard: a small static page over this same API, served by the node at ``/ui/``.

Chosen over server-rendered pages: the figures the dashboard shows are the
API's answers themselves (one source of truth, the same tokens), the node
ships three small files (HTML, CSS, JavaScript; no framework, no CDN: venues
are often offline) and the page works on a phone at the bar. The files are
public; every private figure is fetched with the operator's (or a read)
token, which the login form keeps in the tab's ``sessionStorage``.
"""

from __future__ import annotations

from importlib import resources

from aiohttp import web

from fedow_node.api.routes import Route

__all__ = ["ROUTES", "UI_FILES"]

UI_FILES = {"index.html": "text/html", "app.js": "text/javascript", "style.css": "text/css"}
_HEADERS = {"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"}


def _file(name: str) -> web.Response:
    body = resources.files("fedow_node.api").joinpath("ui", name).read_bytes()
    return web.Response(body=body, content_type=UI_FILES[name], charset="utf-8", headers=_HEADERS)


async def ui_index(request: web.Request) -> web.Response:
    return _file("index.html")


async def ui_script(request: web.Request) -> web.Response:
    return _file("app.js")


async def ui_style(request: web.Request) -> web.Response:
    return _file("style.css")


async def ui_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound("/ui/", text='<a href="/ui/">/ui/</a>', content_type="text/html")  # as documented


ROUTES = (
    Route("GET", "/ui", ui_redirect, "The dashboard (redirects to /ui/)", "dashboard", success=302,
          content_type="text/html"),
    Route("GET", "/ui/", ui_index, "The operator dashboard (a static page over this API)", "dashboard",
          content_type="text/html"),
    Route("GET", "/ui/app.js", ui_script, "The dashboard's script", "dashboard", content_type="text/javascript"),
    Route("GET", "/ui/style.css", ui_style, "The dashboard's style sheet", "dashboard", content_type="text/css"),
)
