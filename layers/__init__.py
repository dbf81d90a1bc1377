"""Map layers: small functions that validate and normalise data before it reaches Folium
(WGS84, rounded coordinates, JSON-safe values, no empty geometry, escaped text)."""
