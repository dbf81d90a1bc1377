"""Default sizes of the hotspot analyses, apart from the code so that the command line
can show them without loading the analytics."""

# Small enough that a hotspot inside a large grid is not averaged away (about a street
# block), large enough that a year of incidents gives counts worth testing.
DEFAULT_CELL_M = 150.0
MIN_CELL_M, MAX_CELL_M = 50.0, 2000.0
DEFAULT_BAND_M = 300.0  # distance band of distance weights, between unit centroids
MIN_BAND_M, MAX_BAND_M = 10.0, 10_000.0
RANKING_DAYS = 30  # the grid ranking's default period, back from the latest incident
PAGE_MONTHS = 12  # the hotspot page's default period, back from the latest incident
