"""The residents' app (``mobile_client/``) served by the API, and ``/docs`` without a CDN.

There is no build step: the browser loads the app's ES modules as they are in ``mobile_client/``. What a
build would give, this module gives at start-up, once:

- a version: a hash of every file of the app (the vendored libraries included). Every file is served
  under ``/app/<version>/…`` with ``Cache-Control: immutable`` for a year, and modules import each other
  by relative paths, so a new release is a new URL space and nothing stale is ever mixed in;
- ``index.html`` (answered for ``/`` and every client-side route, so a link from an e-mail works on a
  cold start) and the service worker ``/sw.js`` with the version filled in, both ``no-cache``;
- gzip done once per file, not per request; ``ETag`` and 304s;
- a strict Content-Security-Policy: nothing inline, scripts, styles, workers and requests only from
  this origin (images also from ``data:``/``blob:`` for photo previews).

These are Starlette routes, not API routes: they carry no data and no identity, so they have no row in
the role matrix (``tests/mobile_client/test_serving.py`` checks that they are the only such routes).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import mobile_client

APP_DIR = Path(mobile_client.__file__).resolve().parent
# Files of the package that are not part of the app, and templates answered under their own URLs.
NOT_SERVED_SUFFIXES = {".py", ".pyc", ".br"}  # .br: a file's Brotli copy, served as that file
TEMPLATES = {"index.html", "sw.js", "docs.html"}
# Paths the client-side router never owns: an unknown path under these is a 404 problem, not the app.
RESERVED = {"api", "open311", "tiles", "docs", "openapi.json", "healthz", "app", "redoc"}

# A missing file (robots.txt, an old asset) is a 404, not the app; a token with a dot is a route.
FILE_SUFFIXES = {
    ".ico",
    ".png",
    ".jpg",
    ".svg",
    ".js",
    ".mjs",
    ".css",
    ".map",
    ".json",
    ".txt",
    ".xml",
    ".html",
}
IMMUTABLE = "public, max-age=31536000, immutable"
NO_CACHE = "no-cache"
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "font-src 'self'",
        "connect-src 'self'",
        "worker-src 'self'",
        "manifest-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "geolocation=(self), camera=(self), microphone=()",
}
COMPRESSIBLE = ("text/", "application/javascript", "application/json", "application/manifest+json")
THEME_COLOUR = "#0b5563"
mimetypes.add_type("text/javascript", ".mjs")
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/manifest+json", ".webmanifest")


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    content_type: str
    etag: str
    cache_control: str
    brotli: bytes | None = None  # made ahead by ``make vendor`` (mobile_client.vendoring), never here

    @classmethod
    def of(cls, body: bytes, content_type: str, cache_control: str, *, brotli: bytes | None = None) -> Asset:
        gzipped = None
        if content_type.startswith(COMPRESSIBLE) and len(body) > 512:
            packed = gzip.compress(body, compresslevel=9, mtime=0)
            gzipped = packed if len(packed) < len(body) else None
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        return cls(body, gzipped, content_type, etag, cache_control, brotli)

    def respond(self, request: Request) -> Response:
        headers = {"Cache-Control": self.cache_control, "ETag": self.etag, **SECURITY_HEADERS}
        if self.gzipped is not None or self.brotli is not None:
            headers["Vary"] = "Accept-Encoding"
        if self.etag in request.headers.get("if-none-match", ""):
            return Response(status_code=304, headers=headers)
        body = self.body
        accepted = accepted_codings(request.headers.get("accept-encoding", ""))
        if self.brotli is not None and "br" in accepted:
            body = self.brotli
            headers["Content-Encoding"] = "br"
        elif self.gzipped is not None and "gzip" in accepted:
            body = self.gzipped
            headers["Content-Encoding"] = "gzip"
        if request.method == "HEAD":
            headers["Content-Length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=self.content_type)
        return Response(body, headers=headers, media_type=self.content_type)


def accepted_codings(header: str) -> set[str]:
    """The content codings an ``Accept-Encoding`` header allows (``br;q=0`` refuses Brotli)."""
    accepted = set()
    for item in header.split(","):
        coding, _, params = item.strip().partition(";")
        quality = params.strip().removeprefix("q=").strip() if params.strip().startswith("q=") else "1"
        try:
            allowed = float(quality) > 0
        except ValueError:
            allowed = False
        if coding and allowed:
            accepted.add(coding.strip().lower())
    return accepted


def _content_type(path: Path) -> str:
    guessed = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if guessed.startswith("text/") or guessed in ("application/json", "application/manifest+json"):
        return f"{guessed}; charset=utf-8"
    return guessed


def _brotli_copy(path: Path) -> bytes | None:
    packed = path.with_name(path.name + ".br")
    return packed.read_bytes() if packed.is_file() else None


class AppBundle:
    """Every file of the app in memory, under its versioned URL, plus the rendered templates."""

    def __init__(self, root: Path = APP_DIR) -> None:
        files = sorted(
            p
            for p in root.rglob("*")
            if p.is_file()
            and p.suffix not in NOT_SERVED_SUFFIXES
            and "__pycache__" not in p.parts
            and p.relative_to(root).as_posix() not in TEMPLATES
        )
        digest = hashlib.sha256()
        for path in files:
            digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        for name in sorted(TEMPLATES):
            digest.update(name.encode() + b"\0" + (root / name).read_bytes())
        self.version = digest.hexdigest()[:12]
        self.base = f"/app/{self.version}"
        self.files = {
            path.relative_to(root).as_posix(): Asset.of(
                path.read_bytes(), _content_type(path), IMMUTABLE, brotli=_brotli_copy(path)
            )
            for path in files
        }
        # The shell a service worker keeps for offline use: everything but the map library and the
        # API docs, which are cached when first used (a first visit stays small).
        later = ("vendor/maplibre-gl/", "vendor/swagger-ui-dist/", "icons/apple", "icons/fav", "js/docs.js")
        self.shell = sorted(
            f"{self.base}/{name}"
            for name in self.files
            if not name.startswith(later) and not name.endswith(("LICENSE", ".txt", ".md", "lock.json"))
        )
        fill = {"%BASE%": self.base, "%VERSION%": self.version, "%THEME%": THEME_COLOUR}
        self.index = Asset.of(self._render(root / "index.html", fill), "text/html; charset=utf-8", NO_CACHE)
        self.docs = Asset.of(self._render(root / "docs.html", fill), "text/html; charset=utf-8", NO_CACHE)
        worker_fill = fill | {'"%SHELL%"': json.dumps(self.shell)}
        self.service_worker = Asset.of(
            self._render(root / "sw.js", worker_fill), "text/javascript; charset=utf-8", NO_CACHE
        )
        self.manifest = Asset.of(self._manifest(), "application/manifest+json; charset=utf-8", NO_CACHE)

    @staticmethod
    def _render(path: Path, fill: dict[str, str]) -> bytes:
        text = path.read_text()
        for placeholder, value in fill.items():
            text = text.replace(placeholder, value)
        return text.encode()

    def _manifest(self) -> bytes:
        icons = [
            {"src": f"{self.base}/icons/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{self.base}/icons/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": f"{self.base}/icons/icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ]
        manifest = {
            "id": "/",
            "name": "civicloop: meld een probleem in de buurt",
            "short_name": "civicloop",
            "description": "Meld een probleem in de openbare ruimte en hoor wat ermee gebeurt.",
            "lang": "nl",
            "start_url": "/",
            "scope": "/",
            "display": "standalone",
            "orientation": "portrait",
            "background_color": "#ffffff",
            "theme_color": THEME_COLOUR,
            "icons": icons,
        }
        return json.dumps(manifest, ensure_ascii=False, indent=1).encode()


def _newest_change(root: Path) -> float:
    return max(p.stat().st_mtime for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)


@dataclass
class _Served:
    """The bundle the routes answer from; replaced as a whole when ``reload`` sees a change."""

    bundle: AppBundle
    seen: float


def install(app: FastAPI, *, reload: bool = False) -> AppBundle:
    """Add the app's routes; call after the API's routers so they win for their paths.

    ``reload`` (development): when a file of the app changed, the next page load builds a new bundle,
    so editing a screen needs no server restart.
    """
    served = _Served(AppBundle(), _newest_change(APP_DIR) if reload else 0.0)
    app.state.mobile_app = served.bundle

    def refresh() -> None:
        if reload and (newest := _newest_change(APP_DIR)) != served.seen:
            served.bundle, served.seen = AppBundle(), newest
            app.state.mobile_app = served.bundle

    async def asset(request: Request) -> Response:
        if request.path_params["version"] != served.bundle.version:
            # An old page asking for a file of a release that is gone: not cacheable, so the next
            # load fetches the new index.
            raise HTTPException(404, f"this app version is not served any more (now {served.bundle.version})")
        found = served.bundle.files.get(request.path_params["path"])
        if found is None:
            raise HTTPException(404, "no such file in the app")
        return found.respond(request)

    async def service_worker(request: Request) -> Response:
        refresh()
        return served.bundle.service_worker.respond(request)

    async def manifest(request: Request) -> Response:
        return served.bundle.manifest.respond(request)

    async def docs(request: Request) -> Response:
        return served.bundle.docs.respond(request)

    async def favicon(request: Request) -> Response:
        return served.bundle.files["icons/favicon-32.png"].respond(request)

    async def shell(request: Request) -> Response:
        """The app for every client-side route (deep links work on a cold start)."""
        path = request.path_params.get("path", "")
        first = path.split("/", 1)[0]
        if first in RESERVED or Path(path).suffix.lower() in FILE_SUFFIXES:
            raise HTTPException(404, f"no route /{path}")
        refresh()
        return served.bundle.index.respond(request)

    methods = ["GET", "HEAD"]
    app.router.routes.extend(
        [
            Route("/app/{version}/{path:path}", asset, methods=methods, include_in_schema=False),
            Route("/sw.js", service_worker, methods=methods, include_in_schema=False),
            Route("/manifest.webmanifest", manifest, methods=methods, include_in_schema=False),
            Route("/favicon.ico", favicon, methods=methods, include_in_schema=False),
            Route("/docs", docs, methods=methods, include_in_schema=False),
            Route("/", shell, methods=methods, include_in_schema=False),
            Route("/{path:path}", shell, methods=methods, include_in_schema=False),
        ]
    )
    return served.bundle
