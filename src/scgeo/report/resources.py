"""The resource list for people: Japanese labels instead of codes, lat/lon instead of geometry."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from scgeo.schema import RESOURCE_STATUS_LABELS, Taxonomy, load_taxonomy

__all__ = ["labelled_resources"]


def labelled_resources(resources: gpd.GeoDataFrame, *, taxonomy: Taxonomy | None = None,
                       digits: int = 7) -> pd.DataFrame:
    """Resources with category, provider type and status as Japanese labels.

    ``last_confirmed`` becomes a date and the geometry becomes ``lat`` / ``lon`` (EPSG:4326,
    rounded to ``digits``); the other columns are kept as they are, in the same order.
    """
    taxonomy = taxonomy or load_taxonomy()
    table = pd.DataFrame(resources.drop(columns=resources.geometry.name))
    table["category"] = table["category"].map(taxonomy.label)
    table["provider_type"] = table["provider_type"].map(taxonomy.label, na_action="ignore")
    table["status"] = table["status"].map(RESOURCE_STATUS_LABELS)
    table["last_confirmed"] = table["last_confirmed"].dt.date
    points = resources.geometry.to_crs(4326)
    table["lat"], table["lon"] = points.y.round(digits), points.x.round(digits)
    return table
