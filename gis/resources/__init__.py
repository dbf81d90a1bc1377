"""The grid model's resources as the API serves them: what each resource is and may be
filtered or sorted by (:mod:`.specs`), what a list asks for (:mod:`.listing`), and
reading and writing rows with domain errors (:mod:`.repository`)."""

from .listing import ListQuery
from .repository import Catalog, Repository
from .specs import RESOURCES, Filter, ResourceSpec

__all__ = ["RESOURCES", "Catalog", "Filter", "ListQuery", "Repository", "ResourceSpec"]
