"""How the API serves the app: caching, gzip, the strict CSP, deep links, the manifest, /docs offline."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from PIL import Image
from starlette.testclient import TestClient

from api.app import create_app
from api.mobile_app import APP_DIR, CSP
from core.settings import Settings
from tests.api.test_route_policies import flattened

GZIP = {"Accept-Encoding": "gzip"}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> FastAPI:
    media = tmp_path_factory.mktemp("media")
    return create_app(Settings(environment="test", database_url="postgresql://unused/db", media_dir=media))


@pytest.fixture
def client(app: FastAPI) -> TestClient:
    """Static answers only: not entered as a context manager, so no lifespan and no database."""
    return TestClient(app, base_url="http://civicloop.test", raise_server_exceptions=False)


@pytest.fixture
def shell(client: TestClient) -> str:
    return client.get("/").text


def version(app: FastAPI) -> str:
    return app.state.mobile_app.version


def test_the_app_is_served_at_the_root_with_a_strict_csp(client: TestClient, app: FastAPI) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["content-security-policy"] == CSP
    assert "unsafe-inline" not in CSP and "unsafe-eval" not in CSP and "script-src 'self'" in CSP
    assert f'<script type="module" src="/app/{version(app)}/js/main.js"></script>' in response.text


def test_no_page_of_the_app_carries_inline_script_or_style() -> None:
    for page in ("index.html", "docs.html"):
        html = (APP_DIR / page).read_text()
        assert all("src=" in tag for tag in re.findall(r"<script\b[^>]*>", html)), page
        assert "<style" not in html and " style=" not in html and not re.search(r"\son[a-z]+=", html), page
    for path in [*APP_DIR.glob("js/*.js"), *APP_DIR.glob("screens/*.js")]:
        code = path.read_text()
        # Text is always set as text: nothing from the server can become markup or code.
        assert not re.search(r"innerHTML\s*=|insertAdjacentHTML|\beval\(|new Function", code), path.name


@pytest.mark.parametrize(
    "path", ["/report", "/my-reports", "/reports/42", "/feedback/eyJpZCI6MX0.abc-_", "/x/y"]
)
def test_client_side_routes_answer_with_the_shell(client: TestClient, shell: str, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200 and response.text == shell


@pytest.mark.parametrize(
    "path", ["/api/v1/no-such-thing", "/open311/nope", "/tiles/nope", "/robots.txt", "/app"]
)
def test_paths_the_app_does_not_own_stay_problem_json_404s(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_versioned_files_are_immutable_gzipped_and_revalidate(client: TestClient, app: FastAPI) -> None:
    base = f"/app/{version(app)}"
    plain = client.get(f"{base}/js/router.js", headers={"Accept-Encoding": "identity"})
    assert plain.status_code == 200
    assert plain.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert plain.headers["content-type"] == "text/javascript; charset=utf-8"
    assert plain.content == (APP_DIR / "js" / "router.js").read_bytes()
    packed = client.get(f"{base}/js/router.js", headers=GZIP)
    assert packed.headers["content-encoding"] == "gzip" and packed.headers["vary"] == "Accept-Encoding"
    assert packed.content == plain.content  # httpx decoded it
    assert int(packed.headers["content-length"]) < len(plain.content) / 2
    again = client.get(f"{base}/js/router.js", headers={"If-None-Match": plain.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/app/000000000000/js/router.js").status_code == 404
    assert client.get(f"{base}/api.py").status_code == 404  # Python files of the package are not served


def test_the_maplibre_worker_is_served_next_to_the_module(client: TestClient, app: FastAPI) -> None:
    base = f"/app/{version(app)}/vendor/maplibre-gl"
    module = client.get(f"{base}/maplibre-gl.mjs", headers=GZIP)
    worker = client.get(f"{base}/maplibre-gl-worker.mjs?v=6.20.0", headers=GZIP)
    assert module.status_code == worker.status_code == 200
    assert worker.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "maplibre-gl-worker.mjs" in module.text


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        ("gzip, deflate, br, zstd", "br"),  # what Chromium sends, also over http://
        ("gzip, br;q=0", "gzip"),
        ("br;q=0.5", "br"),
        ("identity", None),
    ],
)
def test_the_map_library_goes_out_as_brotli_where_the_browser_takes_it(
    client: TestClient, app: FastAPI, accept: str, coding: str | None
) -> None:
    """MapLibre is most of a cold map screen's bytes: its Brotli copy (made by ``make vendor``) is ~18 %
    smaller than gzip at level 9, and it decodes to the vendored file."""
    name = "vendor/maplibre-gl/maplibre-gl.mjs"
    response = client.get(f"/app/{version(app)}/{name}", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("content-encoding") == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.content == (APP_DIR / name).read_bytes()  # httpx decodes br and gzip
    asset = app.state.mobile_app.files[name]
    assert asset.brotli is not None and len(asset.brotli) < 0.85 * len(asset.gzipped)
    assert client.get(f"/app/{version(app)}/{name}.br").status_code == 404  # only as the file itself


def test_the_service_worker_knows_its_version_and_shell(client: TestClient, app: FastAPI) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200 and response.headers["cache-control"] == "no-cache"
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    text = response.text
    assert "%BASE%" not in text and "%SHELL%" not in text and f'VERSION = "{version(app)}"' in text
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", text).group(1))
    assert f"/app/{version(app)}/js/main.js" in shell and f"/app/{version(app)}/i18n/nl.json" in shell
    assert not any("maplibre" in path for path in shell)  # cached when a map is first shown
    for path in shell:
        assert client.get(path).status_code == 200, path


def test_the_manifest_has_the_icons_a_phone_needs(client: TestClient) -> None:
    response = client.get("/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone"
    assert manifest["name"] and manifest["short_name"] == "civicloop" and manifest["theme_color"] == "#0b5563"
    sizes: dict[str, list[int]] = {}
    for icon in manifest["icons"]:
        image = Image.open(io.BytesIO(client.get(icon["src"]).content))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == icon["sizes"]
        sizes[icon.get("purpose", "any")] = sizes.get(icon.get("purpose", "any"), []) + [image.width]
    assert sorted(sizes["any"]) == [192, 512] and sizes["maskable"] == [512]


def test_docs_work_offline_with_swagger_ui_from_this_server(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and page.headers["content-security-policy"] == CSP
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and not [a for a in assets if a.startswith(("http:", "https:", "//"))]
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    assert client.get("/openapi.json").json()["info"]["title"] == "civicloop"
    assert client.get("/redoc").status_code == 404  # it needs a CDN; /docs is the documentation


def test_the_only_routes_outside_the_api_are_the_apps(app: FastAPI) -> None:
    """Everything that is not an APIRoute (and so has no row in the role matrix) carries no data."""
    others = sorted(
        route.path for route in flattened(app) if not isinstance(route, APIRoute) and hasattr(route, "path")
    )
    assert others == sorted(
        [
            "/openapi.json",
            "/app/{version}/{path:path}",
            "/sw.js",
            "/manifest.webmanifest",
            "/favicon.ico",
            "/docs",
            "/",
            "/{path:path}",
        ]
    )


def test_every_served_file_is_in_the_package(app: FastAPI) -> None:
    files = app.state.mobile_app.files
    assert "js/main.js" in files and "vendor/idb/index.js" in files and "icons/icon-512.png" in files
    assert not [name for name in files if name.endswith(".py") or "__pycache__" in name]
    assert all((APP_DIR / name).is_file() for name in files)
    assert gzip.decompress(files["js/main.js"].gzipped) == (Path(APP_DIR) / "js" / "main.js").read_bytes()
