"""Distances between places: great-circle ("as the crow flies") on a sphere of the Earth's
mean radius, from locality centres. Stated on the pages, because it is shorter than the
journey a family makes to visit."""

from __future__ import annotations

from haversine import Unit, haversine

METHOD = (
    "Distances are great-circle (straight-line, 'as the crow flies') distances between the"
    " centre of the person's home locality and the hospital, on a sphere of the Earth's mean"
    " radius (6,371 km). Road journeys are longer."
)


def distance_km(home: tuple[float, float], there: tuple[float, float]) -> float:
    """Kilometres, to 0.1 km, between two (latitude, longitude) points."""
    return round(float(haversine(home, there, unit=Unit.KILOMETERS)), 1)
