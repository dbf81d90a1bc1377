"""The landing page: links to the maps and the API docs, in either language, and who is
signed in (with the sign-out form) or a link to sign in."""

from __future__ import annotations

from gridgis.gis.access.principal import Principal
from gridgis.gis.access.roles import ROLE_LABELS
from gridgis.layers.common import escape

from .i18n import Lang, pick, t

MAP_PAGES = [("/maps/grids", "grids_map", "maps"), ("/maps/incidents", "incidents_map",
                                                    "incidents"),
             ("/maps/hotspots", "hotspots_map", "hotspots"),
             ("/maps/blindspots", "blindspots_map", "blindspots"),
             ("/maps/patrols", "patrols_map", "patrols"),
             ("/maps/plans", "plans_map", "plans")]
OTHER_PAGES = [("/docs", "api_docs")]  # Swagger UI has no language of ours


def landing_page(lang: Lang, who: Principal | None = None) -> str:
    other = "en" if lang == "zh" else "zh"
    hrefs = [(f"{href}?lang={lang}", key) for href, key, needs in MAP_PAGES
             if who is None or not who.signed_in or who.may("read", needs)]
    if who is not None and who.may("read", "audit"):
        hrefs.append((f"/admin/audit?lang={lang}", "audit_log"))
    hrefs += OTHER_PAGES
    links = "".join(f'<li><a href="{href}">{escape(t(key, lang))}</a></li>'
                    for href, key in hrefs)
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t('title', lang))}</title>
<style>body {{ font: 16px/1.6 sans-serif; max-width: 720px; margin: 3em auto;
  padding: 0 1em; color: #222; }} a {{ color: #1f5fa8; }}
  form {{ display: inline; }}</style></head>
<body><h1>{escape(t('title', lang))}</h1>{_account(lang, who)}<ul>{links}</ul>
<p><a href="/?lang={other}">{escape(t('language', lang))}</a></p></body></html>"""


def _account(lang: Lang, who: Principal | None) -> str:
    if who is None or not who.signed_in:
        return f'<p><a href="/login?lang={lang}">{escape(t("sign_in", lang))}</a></p>'
    roles = "、".join(pick(ROLE_LABELS.get(r, (r, r)), lang) for r in sorted(who.roles))
    button = ""
    if who.credential == "session":
        button = (f'<form method="post" action="/logout"><input type="hidden" '
                  f'name="csrf_token" value="{escape(who.csrf)}"><input type="hidden" '
                  f'name="lang" value="{lang}"><button type="submit">'
                  f'{escape(t("sign_out", lang))}</button></form>')
    return (f'<p>{escape(t("signed_in_as", lang))}: <strong>{escape(who.name)}</strong> '
            f'({escape(roles)}) {button}</p>')
