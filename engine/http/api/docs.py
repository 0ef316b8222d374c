"""/api/v1/openapi.json and /api/v1/docs: the API's OpenAPI document and a browsable reference.

The reference is rendered on the server from the same document (plain HTML, no script, nothing
fetched from elsewhere), so it works on an engine with no Internet access.
"""

from __future__ import annotations

import html
import json
from functools import cache
from typing import Any

from fastapi import APIRouter
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from pulsewatch import __version__

TITLE = "PulseWatch REST API"
DESCRIPTION = (
    "Checks, states, results, flips, incidents, channels, maintenance, silences, reports and the audit log "
    "of one organization. Authenticate with `Authorization: Bearer <key>`, a key from "
    "`pulsewatch apikey create --org SLUG --role ROLE`; the key's role decides what it may do, by the same "
    "permission matrix as for people. Checks declared in the YAML file are read-only here."
)


def router(api: APIRouter, prefix: str) -> APIRouter:
    """The routes serving the document of `api` (whose paths start with `prefix`)."""
    docs = APIRouter()  # included into `api`, which carries the prefix

    @cache
    def document() -> dict[str, Any]:
        return get_openapi(title=TITLE, version=__version__, description=DESCRIPTION, routes=api.routes)

    @docs.get("/openapi.json", include_in_schema=False)
    async def openapi() -> JSONResponse:
        return JSONResponse(document())

    @docs.get("/docs", include_in_schema=False)
    async def reference() -> HTMLResponse:
        return HTMLResponse(render(document(), f"{prefix}/openapi.json"))

    return docs


_STYLE = """
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de;
  --code: #f6f8fa; --get: #0969da; --post: #1a7f37; --patch: #9a6700; --delete: #cf222e; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #8d96a0; --line: #30363d;
  --code: #161b22; --get: #4493f8; --post: #3fb950; --patch: #d29922; --delete: #f85149; } }
body { font: 15px/1.5 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 0 auto;
  max-width: 60rem; padding: 1rem; }
code, pre { font-family: ui-monospace, monospace; background: var(--code); border-radius: 4px; }
code { padding: 0 .25em; } pre { padding: .5rem; overflow-x: auto; }
section { border-top: 1px solid var(--line); padding: .5rem 0; }
.m { font-weight: 700; display: inline-block; min-width: 4.5em; }
.GET { color: var(--get); } .POST { color: var(--post); } .PATCH { color: var(--patch); }
.DELETE { color: var(--delete); } .muted { color: var(--muted); }
table { border-collapse: collapse; width: 100%; } td, th { text-align: left; padding: .15rem .5rem .15rem 0;
  vertical-align: top; border-bottom: 1px solid var(--line); }
"""


def render(doc: dict[str, Any], json_url: str) -> str:
    """The reference page for an OpenAPI document: operations by tag, their parameters, bodies and answers."""
    e = html.escape
    schemas = doc.get("components", {}).get("schemas", {})
    parts = [
        "<!doctype html><html lang=en><head><meta charset=utf-8>",
        '<meta name=viewport content="width=device-width, initial-scale=1">',
        f"<title>{e(doc['info']['title'])}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(doc['info']['title'])} <span class=muted>{e(doc['info']['version'])}</span></h1>",
        f"<p>{e(doc['info'].get('description', ''))}</p>",
        f'<p>Machine-readable: <a href="{e(json_url)}">{e(json_url)}</a> (OpenAPI {e(doc["openapi"])}).</p>',
    ]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, operations in doc.get("paths", {}).items():
        for method, op in operations.items():
            by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((method.upper(), path, op))
    for tag, ops in by_tag.items():
        parts.append(f"<h2>{e(tag)}</h2>")
        for method, path, op in ops:
            parts.append(_operation(method, path, op, schemas))
    parts.append("<h2>Schemas</h2>")
    for name, schema in schemas.items():
        parts.append(f'<section id="schema-{e(name)}"><h3>{e(name)}</h3>{_fields(schema)}</section>')
    parts.append("</body></html>")
    return "\n".join(parts)


def _operation(method: str, path: str, op: dict[str, Any], schemas: dict[str, Any]) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(p['name'])}</code></td>"
        f"<td>{e(p['in'])}{' · required' if p.get('required') else ''}</td>"
        f"<td>{e(_type(p.get('schema', {})))}</td><td>{e(p.get('description', ''))}</td></tr>"
        for p in op.get("parameters", [])
    )
    body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    answers = ", ".join(
        f"{e(code)} {e(r.get('description', ''))}" for code, r in op.get("responses", {}).items()
    )
    return (
        f'<section><div><span class="m {method}">{method}</span><code>{e(path)}</code> — '
        f"{e(op.get('summary', ''))}</div><p>{e(op.get('description', ''))}</p>"
        + (
            f"<table><tr><th>parameter</th><th>in</th><th>type</th><th></th></tr>{rows}</table>"
            if rows
            else ""
        )
        + (f"<p>Body: {_link(body)}</p>" if body else "")
        + f"<p class=muted>Answers: {answers}</p></section>"
    )


def _fields(schema: dict[str, Any]) -> str:
    e = html.escape
    props = schema.get("properties")
    if not props:
        return f"<pre>{e(json.dumps(schema, indent=2))}</pre>"
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{e(name)}</code>{' *' if name in required else ''}</td><td>{_link(prop)}</td>"
        f"<td>{e(prop.get('description', ''))}</td></tr>"
        for name, prop in props.items()
    )
    return f"<p>{e(schema.get('description', ''))}</p><table>{rows}</table>"


def _link(schema: dict[str, Any]) -> str:
    ref = _ref(schema)
    if ref:
        return f'<a href="#schema-{html.escape(ref)}">{html.escape(_type(schema))}</a>'
    return html.escape(_type(schema))


def _ref(schema: dict[str, Any]) -> str | None:
    for candidate in (schema, schema.get("items", {}), *schema.get("anyOf", [])):
        if isinstance(candidate, dict) and "$ref" in candidate:
            return str(candidate["$ref"]).rsplit("/", 1)[-1]
    return None


def _type(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_type(schema.get('items', {}))}"
    if "enum" in schema:
        return " | ".join(str(v) for v in schema["enum"])
    return str(schema.get("type", "any"))
