"""The OGC API's HTML encoding: plain pages (no script, nothing fetched) listing what the
JSON says, with Chinese and English labels, so that a browser can walk the API."""

from __future__ import annotations

import json
from dataclasses import dataclass
from html import escape
from typing import Any

STYLE = ("body{font-family:sans-serif;margin:1.5em;max-width:70em}"
         "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.25em .5em;"
         "text-align:left;vertical-align:top}")


def page(title: str, body: str, links: list[dict[str, Any]]) -> str:
    nav = " · ".join(f'<a href="{escape(link["href"])}">'
                     f'{escape(link.get("title") or link["rel"])}</a>'
                     for link in links if link.get("type") != "text/html")
    return (f'<!DOCTYPE html><html lang="zh"><head><meta charset="utf-8">'
            f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>"
            f"<h1>{escape(title)}</h1><p>{nav}</p>{body}</body></html>")


def table(rows: list[dict[str, Any]], columns: list[str]) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(row.get(c))}</td>" for c in columns)
                   + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def conformance(classes: list[str]) -> str:
    items = "".join(f"<li>{escape(c)}</li>" for c in classes)
    return page("符合性 Conformance", f"<ul>{items}</ul>", [{"rel": "up", "href": "/"}])


def collections(document: dict[str, Any]) -> str:
    rows = [{"id": Link(f"/collections/{c['id']}?f=html", c["id"]),
             "title 名称": c["title"],
             "items 要素": Link(f"/collections/{c['id']}/items?f=html", "items")}
            for c in document["collections"]]
    return page("要素集合 Collections", table(rows, ["id", "title 名称", "items 要素"]),
                [{"rel": "up", "href": "/"}])


def collection(document: dict[str, Any]) -> str:
    shown = json.dumps(document, indent=1, ensure_ascii=False)
    return page(document["title"], f"<pre>{escape(shown)}</pre>", document["links"])


def features(title: str, document: dict[str, Any]) -> str:
    rows = [{"id": f["id"], **f["properties"]} for f in document["features"]]
    columns = list(dict.fromkeys(c for row in rows for c in row))
    summary = (f"<p>匹配 matched: {document['numberMatched']} · 返回 returned: "
               f"{document['numberReturned']}</p>")
    return page(title, summary + table(rows, columns), document["links"])


def feature(title: str, document: dict[str, Any]) -> str:
    rows = [{"property 属性": k, "value 值": v} for k, v in document["properties"].items()]
    return page(title, table(rows, ["property 属性", "value 值"]), document["links"])


@dataclass(frozen=True)
class Link:
    href: str
    text: str


def _cell(value: Any) -> str:
    if isinstance(value, Link):
        return f'<a href="{escape(value.href)}">{escape(value.text)}</a>'
    if isinstance(value, dict | list):
        return escape(json.dumps(value, ensure_ascii=False))
    return "" if value is None else escape(str(value))
