"""The landing page: links to the maps and the API docs, in either language."""

from __future__ import annotations

from gridgis.layers.common import escape

from .i18n import Lang, t

MAP_PAGES = [("/maps/grids", "grids_map"), ("/maps/incidents", "incidents_map"),
             ("/maps/hotspots", "hotspots_map")]
OTHER_PAGES = [("/docs", "api_docs")]  # Swagger UI has no language of ours


def landing_page(lang: Lang) -> str:
    other = "en" if lang == "zh" else "zh"
    hrefs = [(f"{href}?lang={lang}", key) for href, key in MAP_PAGES] + OTHER_PAGES
    links = "".join(f'<li><a href="{href}">{escape(t(key, lang))}</a></li>'
                    for href, key in hrefs)
    return f"""<!DOCTYPE html>
<html lang="{'zh-CN' if lang == 'zh' else 'en'}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(t('title', lang))}</title>
<style>body {{ font: 16px/1.6 sans-serif; max-width: 720px; margin: 3em auto;
  padding: 0 1em; color: #222; }} a {{ color: #1f5fa8; }}</style></head>
<body><h1>{escape(t('title', lang))}</h1><ul>{links}</ul>
<p><a href="/?lang={other}">{escape(t('language', lang))}</a></p></body></html>"""
