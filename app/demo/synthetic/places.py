"""Where the synthetic service runs: real English towns, invented hospitals, and wards of
the mix England's mental health beds have.

Towns are real, with their centres' coordinates to about a kilometre, so distances (bed
search, out-of-area placements) are realistic. The weight of a town is roughly its
population in thousands: hospitals go where people live. Hospitals and wards are invented.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from app.demo.plan import WardSpec, weighted
from app.flow import geo

# (code, name, latitude, longitude, weight)
TOWNS: tuple[tuple[str, str, float, float, float], ...] = (
    ("CAMDEN", "Camden", 51.5290, -0.1255, 270),
    ("HACKNEY", "Hackney", 51.5450, -0.0553, 280),
    ("LAMBETH", "Lambeth", 51.4607, -0.1163, 320),
    ("SOUTHWARK", "Southwark", 51.5035, -0.0804, 310),
    ("CROYDON", "Croydon", 51.3762, -0.0982, 390),
    ("BARNET", "Barnet", 51.6252, -0.1517, 390),
    ("EALING", "Ealing", 51.5130, -0.3089, 370),
    ("NEWHAM", "Newham", 51.5255, 0.0352, 350),
    ("TOWERHAMLETS", "Tower Hamlets", 51.5203, -0.0293, 310),
    ("BRENT", "Brent", 51.5588, -0.2817, 340),
    ("ENFIELD", "Enfield", 51.6538, -0.0799, 330),
    ("LEWISHAM", "Lewisham", 51.4415, -0.0117, 300),
    ("HILLINGDON", "Hillingdon", 51.5441, -0.4760, 310),
    ("BROMLEY", "Bromley", 51.4039, 0.0198, 330),
    ("HOUNSLOW", "Hounslow", 51.4746, -0.3680, 290),
    ("REDBRIDGE", "Redbridge", 51.5590, 0.0741, 310),
    ("KINGSTON", "Kingston upon Thames", 51.4123, -0.3007, 170),
    ("HARINGEY", "Haringey", 51.5906, -0.1110, 260),
    ("BIRMINGHAM", "Birmingham", 52.4862, -1.8904, 1140),
    ("MANCHESTER", "Manchester", 53.4808, -2.2426, 550),
    ("SALFORD", "Salford", 53.4875, -2.2901, 270),
    ("STOCKPORT", "Stockport", 53.4106, -2.1575, 290),
    ("BOLTON", "Bolton", 53.5769, -2.4282, 290),
    ("WIGAN", "Wigan", 53.5450, -2.6325, 330),
    ("OLDHAM", "Oldham", 53.5409, -2.1114, 240),
    ("LIVERPOOL", "Liverpool", 53.4084, -2.9916, 490),
    ("WIRRAL", "Birkenhead", 53.3934, -3.0148, 320),
    ("LEEDS", "Leeds", 53.7997, -1.5492, 810),
    ("BRADFORD", "Bradford", 53.7960, -1.7594, 550),
    ("WAKEFIELD", "Wakefield", 53.6830, -1.4977, 350),
    ("HUDDERSFIELD", "Huddersfield", 53.6458, -1.7850, 440),
    ("HALIFAX", "Halifax", 53.7248, -1.8658, 210),
    ("SHEFFIELD", "Sheffield", 53.3811, -1.4701, 560),
    ("ROTHERHAM", "Rotherham", 53.4326, -1.3635, 270),
    ("DONCASTER", "Doncaster", 53.5228, -1.1285, 310),
    ("BARNSLEY", "Barnsley", 53.5526, -1.4797, 250),
    ("YORK", "York", 53.9600, -1.0873, 210),
    ("HARROGATE", "Harrogate", 53.9921, -1.5418, 160),
    ("SCARBOROUGH", "Scarborough", 54.2831, -0.3998, 110),
    ("HULL", "Kingston upon Hull", 53.7676, -0.3274, 270),
    ("NEWCASTLE", "Newcastle upon Tyne", 54.9783, -1.6178, 300),
    ("GATESHEAD", "Gateshead", 54.9526, -1.6014, 200),
    ("SUNDERLAND", "Sunderland", 54.9069, -1.3838, 280),
    ("DURHAM", "Durham", 54.7761, -1.5733, 520),
    ("DARLINGTON", "Darlington", 54.5236, -1.5595, 110),
    ("MIDDLESBROUGH", "Middlesbrough", 54.5742, -1.2350, 290),
    ("CARLISLE", "Carlisle", 54.8925, -2.9329, 250),
    ("LANCASTER", "Lancaster", 54.0466, -2.8007, 250),
    ("PRESTON", "Preston", 53.7632, -2.7031, 360),
    ("BLACKPOOL", "Blackpool", 53.8175, -3.0357, 240),
    ("BLACKBURN", "Blackburn", 53.7500, -2.4849, 300),
    ("BURNLEY", "Burnley", 53.7893, -2.2405, 200),
    ("CHESTER", "Chester", 53.1934, -2.8931, 360),
    ("WARRINGTON", "Warrington", 53.3900, -2.5970, 210),
    ("CREWE", "Crewe", 53.0979, -2.4416, 200),
    ("STOKE", "Stoke-on-Trent", 53.0027, -2.1794, 430),
    ("STAFFORD", "Stafford", 52.8067, -2.1168, 300),
    ("WOLVERHAMPTON", "Wolverhampton", 52.5862, -2.1286, 460),
    ("DUDLEY", "Dudley", 52.5123, -2.0811, 320),
    ("WALSALL", "Walsall", 52.5862, -1.9829, 290),
    ("COVENTRY", "Coventry", 52.4068, -1.5197, 370),
    ("WARWICK", "Warwick", 52.2819, -1.5849, 300),
    ("WORCESTER", "Worcester", 52.1920, -2.2200, 600),
    ("HEREFORD", "Hereford", 52.0565, -2.7160, 190),
    ("SHREWSBURY", "Shrewsbury", 52.7073, -2.7553, 330),
    ("TELFORD", "Telford", 52.6784, -2.4453, 190),
    ("DERBY", "Derby", 52.9225, -1.4746, 560),
    ("CHESTERFIELD", "Chesterfield", 53.2350, -1.4210, 250),
    ("NOTTINGHAM", "Nottingham", 52.9548, -1.1581, 690),
    ("MANSFIELD", "Mansfield", 53.1472, -1.1987, 400),
    ("LEICESTER", "Leicester", 52.6369, -1.1398, 700),
    ("LINCOLN", "Lincoln", 53.2307, -0.5406, 400),
    ("BOSTON", "Boston", 52.9789, -0.0266, 180),
    ("GRIMSBY", "Grimsby", 53.5675, -0.0808, 160),
    ("NORTHAMPTON", "Northampton", 52.2405, -0.9027, 500),
    ("KETTERING", "Kettering", 52.3962, -0.7270, 250),
    ("PETERBOROUGH", "Peterborough", 52.5695, -0.2405, 300),
    ("CAMBRIDGE", "Cambridge", 52.2053, 0.1218, 350),
    ("NORWICH", "Norwich", 52.6309, 1.2974, 500),
    ("KINGSLYNN", "King's Lynn", 52.7517, 0.4020, 150),
    ("IPSWICH", "Ipswich", 52.0567, 1.1482, 400),
    ("BURYSTEDMUNDS", "Bury St Edmunds", 52.2429, 0.7116, 350),
    ("COLCHESTER", "Colchester", 51.8959, 0.8919, 400),
    ("CHELMSFORD", "Chelmsford", 51.7356, 0.4685, 450),
    ("SOUTHEND", "Southend-on-Sea", 51.5459, 0.7077, 330),
    ("BASILDON", "Basildon", 51.5761, 0.4887, 300),
    ("LUTON", "Luton", 51.8787, -0.4200, 300),
    ("BEDFORD", "Bedford", 52.1360, -0.4667, 290),
    ("MILTONKEYNES", "Milton Keynes", 52.0406, -0.7594, 290),
    ("STEVENAGE", "Stevenage", 51.9038, -0.1966, 400),
    ("STALBANS", "St Albans", 51.7527, -0.3394, 400),
    ("WATFORD", "Watford", 51.6565, -0.3903, 400),
    ("OXFORD", "Oxford", 51.7520, -1.2577, 400),
    ("BANBURY", "Banbury", 52.0629, -1.3398, 150),
    ("AYLESBURY", "Aylesbury", 51.8168, -0.8124, 400),
    ("READING", "Reading", 51.4543, -0.9781, 450),
    ("SLOUGH", "Slough", 51.5105, -0.5950, 300),
    ("SWINDON", "Swindon", 51.5558, -1.7797, 230),
    ("GLOUCESTER", "Gloucester", 51.8642, -2.2382, 330),
    ("CHELTENHAM", "Cheltenham", 51.8994, -2.0783, 300),
    ("BRISTOL", "Bristol", 51.4545, -2.5879, 700),
    ("BATH", "Bath", 51.3811, -2.3590, 200),
    ("WESTONSUPERMARE", "Weston-super-Mare", 51.3460, -2.9770, 210),
    ("SALISBURY", "Salisbury", 51.0688, -1.7945, 250),
    ("TAUNTON", "Taunton", 51.0143, -3.1029, 350),
    ("EXETER", "Exeter", 50.7184, -3.5339, 450),
    ("TORQUAY", "Torquay", 50.4619, -3.5253, 280),
    ("PLYMOUTH", "Plymouth", 50.3755, -4.1427, 400),
    ("TRURO", "Truro", 50.2632, -5.0510, 570),
    ("BARNSTAPLE", "Barnstaple", 51.0809, -4.0578, 160),
    ("DORCHESTER", "Dorchester", 50.7154, -2.4367, 200),
    ("BOURNEMOUTH", "Bournemouth", 50.7192, -1.8808, 400),
    ("SOUTHAMPTON", "Southampton", 50.9097, -1.4044, 500),
    ("PORTSMOUTH", "Portsmouth", 50.8198, -1.0880, 500),
    ("WINCHESTER", "Winchester", 51.0632, -1.3080, 300),
    ("BASINGSTOKE", "Basingstoke", 51.2665, -1.0924, 300),
    ("NEWPORTIOW", "Newport (Isle of Wight)", 50.7008, -1.2927, 140),
    ("GUILDFORD", "Guildford", 51.2362, -0.5704, 500),
    ("CRAWLEY", "Crawley", 51.1092, -0.1872, 300),
    ("CHICHESTER", "Chichester", 50.8376, -0.7749, 300),
    ("WORTHING", "Worthing", 50.8179, -0.3729, 300),
    ("BRIGHTON", "Brighton and Hove", 50.8225, -0.1372, 450),
    ("EASTBOURNE", "Eastbourne", 50.7684, 0.2905, 250),
    ("HASTINGS", "Hastings", 50.8543, 0.5735, 200),
    ("TUNBRIDGEWELLS", "Tunbridge Wells", 51.1324, 0.2637, 250),
    ("MAIDSTONE", "Maidstone", 51.2704, 0.5227, 450),
    ("MEDWAY", "Chatham", 51.3806, 0.5290, 280),
    ("CANTERBURY", "Canterbury", 51.2802, 1.0789, 400),
    ("DOVER", "Dover", 51.1279, 1.3134, 250),
)

# Invented hospital names: "<town> <suffix>" or a name of its own.
SITE_SUFFIXES = (
    "Park Hospital", "House", "Lodge", "Grange", "Fields Hospital", "Hill Hospital",
    "Mental Health Unit", "Centre", "Court", "Bank Hospital", "Moor Hospital", "Priory Unit",
)  # fmt: skip
WARD_NAMES = (
    "Ash", "Beech", "Birch", "Cedar", "Elm", "Hazel", "Holly", "Ivy", "Juniper", "Larch",
    "Maple", "Oak", "Rowan", "Willow", "Alder", "Aspen", "Bramble", "Clover", "Daisy",
    "Fern", "Foxglove", "Heather", "Iris", "Jasmine", "Laurel", "Lavender", "Lilac", "Linden",
    "Magnolia", "Myrtle", "Poplar", "Primrose", "Sycamore", "Thistle", "Yew", "Bluebell",
    "Kestrel", "Heron", "Curlew", "Osprey", "Wren", "Swift", "Skylark", "Merlin", "Plover",
    "Puffin", "Robin", "Teal",
)  # fmt: skip

# The mix of ward types, ward by ward: about 44 % of beds adult acute, 15 % older adult,
# 18 % secure (forensic), 10 % rehabilitation, 7 % PICU, 4 % CAMHS, 3 % learning disability
# and autism, as in NHS England's bed base. A small service starts with adult acute.
TYPE_PATTERN = (
    "adult_acute", "picu", "older_adult_acute", "adult_acute", "forensic", "adult_acute",
    "rehabilitation", "older_adult_acute", "adult_acute", "camhs", "forensic", "ld_autism",
    "adult_acute", "picu", "forensic", "adult_acute", "older_adult_acute", "rehabilitation",
    "adult_acute", "forensic",
)  # fmt: skip


@dataclass(frozen=True)
class TypeShape:
    beds: tuple[int, int]
    sexes: tuple[tuple[str, float], ...]
    ages: tuple[tuple[tuple[int, int], float], ...]
    occupancy: tuple[float, float]  # share of open beds occupied now, low to high


SHAPES: dict[str, TypeShape] = {
    "adult_acute": TypeShape(
        (16, 24), (("male", 40), ("female", 38), ("mixed", 22)),
        (((18, 64), 80), ((18, 130), 20)), (0.90, 1.0),
    ),
    "older_adult_acute": TypeShape(
        (14, 20), (("mixed", 60), ("female", 20), ("male", 20)), (((65, 130), 1),), (0.82, 0.95)
    ),
    "picu": TypeShape(
        (8, 14), (("male", 60), ("female", 25), ("mixed", 15)), (((18, 64), 1),), (0.80, 0.97)
    ),
    "camhs": TypeShape((10, 14), (("mixed", 1),), (((12, 17), 70), ((13, 17), 30)), (0.70, 0.90)),
    "ld_autism": TypeShape(
        (8, 12), (("mixed", 70), ("male", 30)), (((18, 130), 1),), (0.72, 0.90)
    ),
    "rehabilitation": TypeShape(
        (12, 20), (("mixed", 60), ("male", 25), ("female", 15)), (((18, 130), 1),), (0.85, 0.95)
    ),
    "forensic": TypeShape(
        (12, 18), (("male", 85), ("female", 15)), (((18, 130), 1),), (0.88, 0.97)
    ),
}  # fmt: skip
# A few large adult acute wards; the benchmark times the board of a 30-bed ward.
LARGE_WARD = 30
LARGE_WARD_CHANCE = 0.1
MIN_WARD = 6


@dataclass(frozen=True)
class Town:
    code: str
    name: str
    latitude: float
    longitude: float
    weight: float


@dataclass
class SitePlan:
    code: str
    name: str
    town: Town
    wards: list[WardSpec]


@dataclass
class Places:
    towns: list[Town]
    sites: list[SitePlan]
    # Each town's neighbours, nearest first (where people near a hospital live), and the
    # towns far enough away to be "out of area".
    near: dict[str, list[Town]]
    far: dict[str, list[Town]]

    @property
    def wards(self) -> list[WardSpec]:
        return [w for s in self.sites for w in s.wards]


def plan_places(rng: random.Random, beds: int) -> Places:
    """Wards adding up to exactly `beds`, grouped into hospitals of three to eight wards,
    hospitals in towns chosen by population (a big city may have several)."""
    if beds < MIN_WARD:
        raise ValueError(f"at least {MIN_WARD} beds are needed for one ward")
    towns = [Town(*row) for row in TOWNS]
    kinds: list[tuple[str, int]] = []
    total = 0
    while total < beds:
        kind = TYPE_PATTERN[len(kinds) % len(TYPE_PATTERN)]
        low, high = SHAPES[kind].beds
        size = rng.randint(low, high)
        if kind == "adult_acute" and (total == 0 or rng.random() < LARGE_WARD_CHANCE):
            size = LARGE_WARD
        size = min(size, beds - total)
        if size < MIN_WARD:
            # Too few left for a ward of their own: the previous ward takes them.
            last_kind, last_size = kinds[-1]
            kinds[-1] = (last_kind, last_size + size)
        else:
            kinds.append((kind, size))
        total += size

    sites: list[SitePlan] = []
    used_names: dict[str, int] = {}
    weights = [t.weight for t in towns]
    index = 0
    while index < len(kinds):
        count = min(rng.randint(3, 8), len(kinds) - index)
        town = rng.choices(towns, weights=weights)[0]
        n = used_names[town.code] = used_names.get(town.code, 0) + 1
        code = f"{town.code[:10]}{n}"
        name = f"{town.name} {SITE_SUFFIXES[(n - 1 + len(sites)) % len(SITE_SUFFIXES)]}"
        if n > 1:
            name = f"{name} {n}"
        wards: list[WardSpec] = []
        for position, (kind, size) in enumerate(kinds[index : index + count]):
            shape = SHAPES[kind]
            low_age, high_age = weighted(rng, shape.ages)
            ward_name = WARD_NAMES[(len(sites) * 7 + position) % len(WARD_NAMES)]
            wards.append(
                WardSpec(
                    code=f"{code}-{ward_name.upper()}",
                    site=code,
                    ward_type=kind,
                    sex=weighted(rng, shape.sexes),
                    min_age=low_age,
                    max_age=high_age,
                    beds=size,
                    occupancy=rng.uniform(*shape.occupancy),
                )
            )
        sites.append(SitePlan(code, name, town, wards))
        index += count

    near: dict[str, list[Town]] = {}
    far: dict[str, list[Town]] = {}
    for town in towns:
        by_distance = sorted(towns, key=lambda t: (_km(town, t), t.code))
        near[town.code] = by_distance[:6]
        far[town.code] = [t for t in by_distance if _km(town, t) > 60]
    return Places(towns, sites, near, far)


def _km(a: Town, b: Town) -> float:
    return geo.distance_km((a.latitude, a.longitude), (b.latitude, b.longitude))


def ward_display_name(spec: WardSpec) -> str:
    return f"{spec.code.split('-', 1)[1].title()} Ward"


def bed_labels(spec: WardSpec) -> list[str]:
    prefix = spec.code.split("-", 1)[1][:3]
    width = max(2, int(math.log10(spec.beds)) + 1)
    return [f"{prefix}{n:0{width}d}" for n in range(1, spec.beds + 1)]
