"""A legend box: a title and coloured classes, all text escaped."""

from __future__ import annotations

from branca.element import MacroElement, Template

from .common import escape


class Legend(MacroElement):
    _template = Template("""
        {% macro html(this, kwargs) %}
        <div class="gridgis-legend" id="{{ this.get_name() }}">
          <div class="gridgis-legend-title">{{ this.title }}</div>
          {% for color, label in this.items %}
          <div><span class="gridgis-swatch" style="background:{{ color }}"></span>{{ label }}</div>
          {% endfor %}
        </div>
        <style>
          .gridgis-legend { position: absolute; z-index: 1000; bottom: 28px; right: 10px;
            background: rgba(255,255,255,.92); padding: 6px 10px; border-radius: 4px;
            font: 12px/1.5 sans-serif; box-shadow: 0 1px 4px rgba(0,0,0,.3); max-width: 260px; }
          .gridgis-legend-title { font-weight: bold; margin-bottom: 2px; }
          .gridgis-swatch { display: inline-block; width: 14px; height: 10px; margin-right: 6px;
            border: 1px solid #555; vertical-align: middle; }
        </style>
        {% endmacro %}
    """)

    def __init__(self, title: str, items: list[tuple[str, str]]) -> None:
        super().__init__()
        self._name = "Legend"
        self.title = escape(title)
        self.items = [(color, escape(label)) for color, label in items]
