"""docs/api-reference.md, written from the OpenAPI document (widget/api/openapi.py):
`python -m widget.api.reference [PATH]` writes it; tests/test_openapi.py fails when the
committed page is not what this writes."""
from __future__ import annotations

import argparse
from pathlib import Path

from widget.api.openapi import PATHS, document

PAGE = Path(__file__).resolve().parents[2] / "docs" / "api-reference.md"
METHODS = ("get", "post", "patch", "delete", "options")
INTRO = """\
# API reference

Every endpoint under `/api/v1`, written from the OpenAPI 3.1 document the service
serves at `GET /api/v1/openapi.json` (load it into any OpenAPI tool; a test checks the
real answers against it). `python -m widget.api.reference` writes this page from it.
[Public API](api.md) explains the ideas: keys, pages, which error comes first.

Errors are always `{"error": {"code": "…", "message": "…", "field": "…"}}` (`field` only
when one is at fault); [Errors](#errors) lists the codes of each status. Owner endpoints
need `Authorization: Bearer <key>`, a key of the URL's site (`write` scope to change
anything). Times are ISO 8601 in UTC to the second, `null` when there is none.
"""
SECTIONS = {"public": "Public API", "owner": "Owner API"}


def cell(value: str) -> str:
    """Text safe in a table cell."""
    return value.replace("|", "\\|").replace("\n", " ")


def kind(schema: dict) -> str:
    """A schema's type as a reader says it: `string or null`, `array of [Story](#story)`."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        return f"[{name}](#{name.lower()})"
    if "const" in schema:
        return f"`{str(schema['const']).lower()}`"
    if "enum" in schema:
        return " | ".join(f"`{value}`" for value in schema["enum"])
    types = schema.get("type", "any")
    types = [types] if isinstance(types, str) else types
    named = []
    for name in types:
        if name == "array" and "prefixItems" in schema:
            name = "[" + ", ".join(kind(item) for item in schema["prefixItems"]) + "]"
        elif name == "array":
            name = "array of " + kind(schema.get("items", {}))
        elif name == "object" and isinstance(schema.get("additionalProperties"), dict):
            name = "object of " + kind(schema["additionalProperties"])
        elif name == "string" and "format" in schema:
            name = {"date-time": "time", "date": "date (YYYY-MM-DD)",
                        "email": "e-mail address"}[schema["format"]]
        named.append(name)
    return " or ".join(named)


def notes(*parts: str) -> str:
    """Sentences for a table's notes column, each capitalised and ending with a stop."""
    said = [p if p.endswith(".") else p + "." for p in parts if p]
    return cell(" ".join(p[0].upper() + p[1:] for p in said))


def limits(schema: dict) -> str:
    """A schema's bounds in words."""
    words = []
    for key, say in (("minimum", "at least {}"), ("maximum", "at most {}"),
                     ("minLength", "at least {} characters"),
                     ("maxLength", "at most {} characters"),
                     ("maxItems", "at most {} items"), ("default", "default {}")):
        if key in schema:
            words.append(say.format(schema[key]))
    if "maxLength" in schema.get("items", {}):
        words.append(f"each at most {schema['items']['maxLength']} characters")
    return "; ".join(words)


def fields(schema: dict, prefix: str = "") -> list[str]:
    """Table rows for an object's properties; inline objects' own fields follow theirs."""
    rows, required = [], set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        said = notes("" if name in required else "optional", prop.get("description", ""),
                     limits(prop))
        rows.append(f"| `{prefix}{name}` | {cell(kind(prop))} | {said} |")
        inner = prop.get("items", prop) if prop.get("type") == "array" else prop
        if inner.get("properties"):
            rows += fields(inner, f"{prefix}{name}{'[]' if inner is not prop else ''}.")
    return rows


def extends(schema: dict, schemas: dict) -> str | None:
    """The schema whose very fields this one starts with, if any (ContactDetail: Contact)."""
    mine = schema.get("properties", {})
    for name, other in schemas.items():
        theirs = other.get("properties", {})
        if other is not schema and theirs and set(theirs) < set(mine) and all(
                mine[k] is theirs[k] for k in theirs):
            return name
    return None


def operation(method: str, path: str, op: dict, components: dict) -> list[str]:
    lines = [f"### `{method.upper()} {path}`", "", op["summary"] + ".", ""]
    if op.get("description"):
        lines += [op["description"], ""]
    params = [components["parameters"][p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
              for p in op["parameters"]]
    if params:
        lines += ["| parameter | in | type | notes |", "|---|---|---|---|"]
        for p in params:
            said = notes("required" if p["required"] else "", p["description"],
                         limits(p["schema"]))
            lines.append(f"| `{p['name']}` | {p['in']} | {cell(kind(p['schema']))} | {said} |")
        lines.append("")
    if "requestBody" in op:
        content = op["requestBody"]["content"]
        lines.append("Body: " + ", ".join(f"`{t}`" for t in content) + ".")
        schema = next(iter(content.values()))["schema"]
        if "$ref" in schema:
            lines += ["", f"A {kind(schema)}:"]
            schema = components["schemas"][schema["$ref"].rsplit("/", 1)[1]]
        lines += ["", "| field | type | notes |", "|---|---|---|", *fields(schema), ""]
    lines += ["| status | when | body |", "|---|---|---|"]
    for status, answer in op["responses"].items():
        if "$ref" in answer:
            answer = components["responses"][answer["$ref"].rsplit("/", 1)[1]]
        body = ", ".join(f"`{t}`" + (f" {kind(c['schema'])}" if "$ref" in c["schema"] else "")
                         for t, c in answer.get("content", {}).items())
        if status.startswith(("4", "5")):
            body = "[error](#errors)" + (", or a page for a form" if "text/html" in
                                         answer["content"] else "")
        headers = ", ".join(f"`{name}`" for name in answer.get("headers", {}))
        when = answer["description"] + (f" Headers: {headers}." if headers else "")
        lines.append(f"| {status} | {cell(when)} | {cell(body)} |")
    return lines + [""]


def markdown() -> str:
    """The reference page: every operation by section, then the schemas and errors."""
    doc = document("https://widgets.example")
    components = doc["components"]
    lines = [INTRO]
    for tag, title in SECTIONS.items():
        lines += [f"## {title}", ""]
        for path, item in PATHS.items():
            for method in METHODS:
                if method in item and item[method]["tags"] == [tag]:
                    lines += operation(method, path, item[method], components)
    lines += ["## Schemas", ""]
    schemas = components["schemas"]
    for name, schema in schemas.items():
        lines += [f"### {name}", ""]
        if "properties" not in schema:
            lines += [f"A {kind(schema)}. {schema.get('description', '')}".rstrip(), ""]
            continue
        if schema.get("description"):
            lines += [schema["description"], ""]
        shown, base = schema, extends(schema, schemas)
        if base:  # say "the fields of X, and:" rather than repeat them
            own = {k: v for k, v in schema["properties"].items()
                   if k not in schemas[base]["properties"]}
            shown = {**schema, "properties": own}
            lines += [f"The fields of [{base}](#{base.lower()}), and:", ""]
        lines += ["| field | type | notes |", "|---|---|---|", *fields(shown), ""]
    lines += ["## Errors", "", "| status | when | codes |", "|---|---|---|"]
    for status in sorted(int(s[5:]) for s in components["responses"]):
        answer = components["responses"][f"Error{status}"]
        codes = answer["content"]["application/json"]["schema"]["properties"]["error"][
            "properties"]["code"]["enum"]
        lines.append(f"| {status} | {cell(answer['description'])} | "
                     f"{', '.join(f'`{c}`' for c in codes)} |")
    return "\n".join(lines).rstrip("\n") + "\n"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        prog="python -m widget.api.reference",
        description="Write the API reference (Markdown) from the OpenAPI document.")
    parser.add_argument("target", nargs="?", type=Path, default=PAGE,
                        help="the file to write (default: docs/api-reference.md)")
    target = parser.parse_args().target
    target.write_text(markdown(), encoding="utf-8")
    print(f"wrote {target}")
