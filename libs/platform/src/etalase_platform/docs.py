"""Human-readable API documents that work without internet: Swagger UI served from the
`swagger-ui-bundle` package at `/docs`, and the AsyncAPI document rendered on the server at
`/asyncapi/view`. Nothing is loaded from another host, and each page's Content-Security-Policy
allows only this service."""

import base64
import hashlib
import html
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

from etalase_platform.openapi import as_openapi_30

DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none';"
    " form-action 'none'"
)
_ASSETS = "/docs/assets"

# Swagger UI starts from a script file, not an inline one, so the CSP needs no 'unsafe-inline';
# validatorUrl null keeps it from asking validator.swagger.io for a badge.
_INIT_JS = """\
const root = document.getElementById("swagger-ui");
window.ui = SwaggerUIBundle({
  url: root.dataset.openapi,
  dom_id: "#swagger-ui",
  validatorUrl: null,
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""

_STYLE = """\
body{font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:70rem;padding:1rem 2rem;
color:#1b1b1b}
h1{font-size:1.6rem}h2{margin-top:2rem;border-bottom:1px solid #ccc}h3{margin-bottom:.2rem}
code,pre{font:13px ui-monospace,monospace}pre{background:#f4f4f4;padding:.6rem;overflow:auto}
table{border-collapse:collapse;margin:.4rem 0 1rem}td,th{border:1px solid #ddd;padding:.2rem .5rem;
text-align:left;vertical-align:top}.op{color:#555}
"""
_STYLE_HASH = base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode()
VIEW_CSP = f"default-src 'none'; style-src 'sha256-{_STYLE_HASH}'; frame-ancestors 'none'"


class _Assets(StaticFiles):
    """Swagger UI's files change only with the package: browsers may keep them a day."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response


def install_docs(app: FastAPI, asyncapi: Callable[[], dict[str, Any]]) -> None:
    """`/docs` (Swagger UI, its assets and the 3.0 rendering it reads) and `/asyncapi/view`."""
    app.mount(_ASSETS, _Assets(directory=str(swagger_ui_path)), name="swagger-ui")
    router = APIRouter(include_in_schema=False)

    @router.get("/docs")
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = html.escape(request.scope.get("root_path", ""))
        page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(app.title)} - API</title>
<link rel="stylesheet" href="{root}{_ASSETS}/swagger-ui.css">
<link rel="icon" type="image/png" href="{root}{_ASSETS}/favicon-32x32.png"></head>
<body><div id="swagger-ui" data-openapi="{root}/docs/openapi-3.0.json"></div>
<script src="{root}{_ASSETS}/swagger-ui-bundle.js"></script>
<script src="{root}/docs/init.js"></script></body></html>"""
        return HTMLResponse(page, headers={"Content-Security-Policy": DOCS_CSP})

    @router.get("/docs/init.js")
    async def swagger_init() -> Response:
        return Response(_INIT_JS, media_type="text/javascript")

    @router.get("/docs/openapi-3.0.json")
    async def openapi_30() -> JSONResponse:
        return JSONResponse(as_openapi_30(app.openapi()))

    @router.get("/asyncapi/view")
    async def asyncapi_view() -> HTMLResponse:
        return HTMLResponse(
            render_asyncapi(asyncapi()), headers={"Content-Security-Policy": VIEW_CSP}
        )

    app.include_router(router)


def render_asyncapi(document: dict[str, Any]) -> str:
    """The channels, the operations on them and each message's headers and payload schema."""
    e = html.escape
    info = document.get("info", {})
    operations = document.get("operations", {})
    parts = [
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(info.get('title', 'AsyncAPI'))} - events</title><style>{_STYLE}</style>"
        f"</head><body><h1>{e(info.get('title', ''))}</h1>"
        f"<p>AsyncAPI {e(document.get('asyncapi', ''))}, version {e(info.get('version', ''))}."
        f" {e(info.get('description', ''))}</p>"
        "<p>The machine-readable document is at <a href='../asyncapi'>/asyncapi</a>.</p>"
    ]
    for channel_id, channel in document.get("channels", {}).items():
        actions = [
            f"{op['action']}: {op.get('summary', '')}"
            for op in operations.values()
            if op.get("channel", {}).get("$ref") == f"#/channels/{channel_id}"
        ]
        parts.append(
            f"<h2 id='{e(channel_id)}'>Channel <code>{e(channel.get('address', channel_id))}</code>"
            f"</h2><p>{e(channel.get('description', ''))}</p>"
            + "".join(f"<p class='op'>{e(action)}</p>" for action in actions)
        )
        for ref in channel.get("messages", {}).values():
            message = _resolve(document, ref)
            parts.append(_message(document, message))
    parts.append("</body></html>")
    return "".join(parts)


def _message(document: dict[str, Any], message: dict[str, Any]) -> str:
    e = html.escape
    payload = _resolve(document, message.get("payload", {}))
    headers = _resolve(document, message.get("headers", {}))
    return (
        f"<h3>{e(message.get('name', ''))}</h3><p>{e(message.get('summary', ''))}</p>"
        f"<p>Content type <code>{e(message.get('contentType', ''))}</code></p>"
        f"<p>Headers</p>{_properties(document, headers)}"
        f"<p>Payload</p>{_properties(document, payload)}"
        f"<details><summary>Payload schema (JSON Schema)</summary>"
        f"<pre>{e(json.dumps(payload, indent=2, ensure_ascii=False))}</pre></details>"
    )


def _properties(document: dict[str, Any], schema: dict[str, Any], depth: int = 0) -> str:
    e = html.escape
    properties = schema.get("properties", {})
    if not properties:
        return f"<p><code>{e(_type(schema))}</code></p>"
    required = set(schema.get("required", []))
    rows = []
    for name, raw in properties.items():
        field = _resolve(document, raw)
        nested = (
            _properties(document, field, depth + 1) if field.get("properties") and depth < 2 else ""
        )
        rows.append(
            f"<tr><td><code>{e(name)}</code>{' (required)' if name in required else ''}</td>"
            f"<td><code>{e(_type(field))}</code></td>"
            f"<td>{e(field.get('description', ''))}{nested}</td></tr>"
        )
    return (
        "<table><tr><th>field</th><th>type</th><th>meaning</th></tr>" + "".join(rows) + "</table>"
    )


def _type(schema: dict[str, Any]) -> str:
    if "const" in schema:
        return json.dumps(schema["const"])
    if "enum" in schema:
        return " | ".join(json.dumps(value) for value in schema["enum"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " | ".join(_type(option) for option in schema[key])
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"array of {_type(schema.get('items', {}))}"
    if "format" in schema:
        kind += f" ({schema['format']})"
    if "pattern" in schema:
        kind += f" {schema['pattern']}"
    return kind


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    seen = 0
    while "$ref" in schema and str(schema["$ref"]).startswith("#/") and seen < 10:
        node: Any = document
        for part in str(schema["$ref"])[2:].split("/"):
            node = node.get(part, {}) if isinstance(node, dict) else {}
        schema = {**node, **{k: v for k, v in schema.items() if k != "$ref"}}
        seen += 1
    return schema
