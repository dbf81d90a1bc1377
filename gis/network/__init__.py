"""The road network: noding, the routable graph, reach and shortest paths (pure)."""
