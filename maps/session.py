"""Pages around signing in: the sign-in form, and the audit log for administrators.
Plain HTML with inline styles: no scripts, nothing fetched from elsewhere."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from gridgis.layers.common import escape

from .i18n import Lang, t

STYLE = """body { font: 15px/1.5 sans-serif; margin: 2em auto; max-width: 1100px;
  padding: 0 1em; color: #222; } form.sign-in { max-width: 320px; }
label { display: block; margin: .6em 0 .2em; } input { font: inherit; padding: .3em;
  width: 100%; box-sizing: border-box; } button { font: inherit; margin-top: 1em;
  padding: .4em 1.2em; } .error { color: #b00020; } table { border-collapse: collapse;
  width: 100%; font-size: 13px; } th, td { border-bottom: 1px solid #ddd; padding: .3em;
  text-align: left; vertical-align: top; } form.filters input { width: auto; }"""


def _page(title: str, body: str, lang: Lang) -> str:
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(title)}</title><style>{STYLE}</style></head>
<body>{body}</body></html>"""


def sign_in_page(lang: Lang, *, csrf: str, next_url: str, message: str | None = None,
                 user_name: str = "") -> str:
    error = f'<p class="error" role="alert">{escape(message)}</p>' if message else ""
    other = "en" if lang == "zh" else "zh"
    body = f"""<h1>{escape(t('title', lang))}</h1>
<form class="sign-in" method="post" action="/login">
<h2>{escape(t('sign_in', lang))}</h2>{error}
<input type="hidden" name="csrf_token" value="{escape(csrf)}">
<input type="hidden" name="next" value="{escape(next_url)}">
<input type="hidden" name="lang" value="{lang}">
<label for="username">{escape(t('user_name', lang))}</label>
<input id="username" name="username" autocomplete="username" required
 value="{escape(user_name)}">
<label for="password">{escape(t('password', lang))}</label>
<input id="password" name="password" type="password" autocomplete="current-password"
 required>
<button type="submit">{escape(t('sign_in', lang))}</button></form>
<p><a href="/login?lang={other}&amp;next={escape(quote(next_url))}">{escape(
    t('language', lang))}</a></p>"""
    return _page(t("sign_in", lang), body, lang)


AUDIT_COLUMNS = ("at", "user_name", "client", "action", "route", "resource", "record_ids",
                 "person_ids", "personal", "purpose")
AUDIT_LABELS = ("when", "who", "client", "action", "route", "resource", "records", "person",
                "personal", "purpose")
SHOWN_IDS = 12


def audit_page(lang: Lang, rows: list[dict[str, Any]], total: int,
               filters: dict[str, str]) -> str:
    def cell(name: str, value: Any) -> str:
        if isinstance(value, list):
            more = f" … (+{len(value) - SHOWN_IDS})" if len(value) > SHOWN_IDS else ""
            value = ", ".join(map(str, value[:SHOWN_IDS])) + more
        elif name == "at" and value is not None:
            value = value.isoformat(timespec="seconds")
        return f"<td>{escape(value)}</td>"

    head = "".join(f"<th>{escape(t(label, lang))}</th>" for label in AUDIT_LABELS)
    lines = "".join("<tr>" + "".join(cell(c, r.get(c)) for c in AUDIT_COLUMNS) + "</tr>"
                    for r in rows)
    inputs = "".join(
        f'<label>{escape(t(label, lang))} <input name="{name}" '
        f'value="{escape(filters.get(name, ""))}"'
        f'{" type=date" if name in ("start", "end") else ""}></label> '
        for name, label in (("user", "who"), ("person", "person"), ("start", "start"),
                            ("end", "end")))
    body = f"""<h1>{escape(t('audit_log', lang))}</h1>
<form class="filters" method="get" action="/admin/audit">{inputs}
<input type="hidden" name="lang" value="{lang}">
<button type="submit">{escape(t('apply', lang))}</button></form>
<p>{escape(t('total', lang).format(total=f'{total:,}'))}</p>
<table><thead><tr>{head}</tr></thead><tbody>{lines}</tbody></table>"""
    return _page(t("audit_log", lang), body, lang)
