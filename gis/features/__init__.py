"""OGC API – Features over the grid model: its collections (:mod:`.collections`), CQL2
filters (:mod:`.cql2`) and reading features (:mod:`.items`)."""
