"""Controls over the map: a panel, the filter form the incident and hotspot pages share,
and the measure switch of the grid page. All text is escaped here."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from branca.element import MacroElement, Template

from gridgis.gis import taxonomy
from gridgis.layers.common import escape

from .i18n import Lang, t

DAY = "%Y-%m-%d"


class Panel(MacroElement):
    """A box at the bottom left with trusted HTML built from escaped parts."""

    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="gridgis-panel">{{ this.content }}</div>
        <style>.gridgis-panel { position: absolute; z-index: 1000; bottom: 28px; left: 10px;
          background: rgba(255,255,255,.94); padding: 6px 10px; border-radius: 4px;
          font: 13px/1.6 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); }
          .gridgis-panel select, .gridgis-panel input { font-size: 12px; }</style>
        {% endmacro %}
    """)

    def __init__(self, html: str) -> None:
        super().__init__()
        self._name = "Panel"
        self.content = html


def category_options(lang: Lang, chosen: tuple[str, ...] | list[str]) -> str:
    """<option>s of the incident categories (and "all"), the chosen ones selected."""
    options = [f'<option value="">{escape(t("all", lang))}</option>']
    for code in taxonomy.INCIDENT_CATEGORIES:
        selected = " selected" if code in chosen else ""
        options.append(f'<option value="{escape(code)}"{selected}>'
                       f'{escape(taxonomy.label(taxonomy.INCIDENT_CATEGORIES, code, lang))}'
                       "</option>")
    return "".join(options)


def select(name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    """A labelled <select> of (value, text) options."""
    items = "".join(f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>'
                    f"{escape(text)}</option>" for v, text in options)
    return f'{escape(label)} <select name="{escape(name)}">{items}</select> '


def filter_form(lang: Lang, categories: tuple[str, ...], start: datetime | None,
                end: datetime | None, *, before: str = "", after: str = "") -> str:
    """The GET form of a page's filters: category, start and end dates, with the page's
    own controls (escaped HTML) before and after them."""
    return (
        '<form method="get">'
        f'<input type="hidden" name="lang" value="{escape(lang)}">{before}'
        f'{escape(t("category", lang))} <select name="category">'
        f'{category_options(lang, categories)}</select> '
        f'{escape(t("start", lang))} <input type="date" name="start" '
        f'value="{escape(start.strftime(DAY) if start else "")}"> '
        f'{escape(t("end", lang))} <input type="date" name="end" '
        f'value="{escape(end.strftime(DAY) if end else "")}"> '
        f'<button type="submit">{escape(t("apply", lang))}</button>{after}</form>')


def measure_switch(lang: Lang, measures: dict[str, str], measure: str,
                   start: datetime | None, end: datetime | None) -> Panel:
    """Links to the same page with another measure or language."""
    links = []
    period = [("start", start.isoformat()) if start else None,
              ("end", end.isoformat()) if end else None]
    for key, label in measures.items():
        query = urlencode([("measure", key), ("lang", lang), *filter(None, period)])
        style = "font-weight:bold" if key == measure else ""
        links.append(f'<a style="{style}" href="?{escape(query)}">{escape(t(label, lang))}</a>')
    other = "en" if lang == "zh" else "zh"
    links.append(f'<a href="?{escape(urlencode({"measure": measure, "lang": other}))}">'
                 f'{escape(t("language", lang))}</a>')
    return Panel(f"<b>{escape(t('measure', lang))}</b>: " + " · ".join(links))
