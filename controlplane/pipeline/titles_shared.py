"""The default catalog's titles that reuse another title's media (metadata and art only).

Each one names, in ``shares_media_with``, a generated title of :data:`titles.DEFAULT_TITLES`;
the pipeline links that title's media into its folder (:mod:`controlplane.pipeline.share`) and
draws its own poster and backdrop. The picture burned into the shared video (name, rendition
label) is the generated title's: a mock's trade-off that keeps the default catalog at 40-odd
titles over a dozen genres while generation stays within its time budget.
"""

from __future__ import annotations

import re

from controlplane.pipeline.titles import DEFAULT_TITLES, TitleSpec

_MEDIA = {t.id: t for t in DEFAULT_TITLES}


def slug(name: str) -> str:
    """The title id made from its name: ``"Love, Al Dente"`` → ``"love-al-dente"``."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower().replace("&", "and")).strip("-")


def _shared(media_of: str, name: str, synopsis: str, year: int,
            genres: tuple[str, ...], rating: str, colors: tuple[str, str]) -> TitleSpec:
    base = _MEDIA[media_of]
    return TitleSpec(slug(name), name, synopsis, year, genres, base.duration_s, rating,
                     colors=colors, shares_media_with=media_of)


SHARED_TITLES: tuple[TitleSpec, ...] = (
    # --- Drama -------------------------------------------------------------------------------
    _shared("salt-and-ember", "The Long Table",
            "Four siblings cook their late father's recipes for one last summer in the house.",
            2023, ("Drama", "Food"), "PG", ("0x4a2511", "0xe0a458")),
    _shared("paper-lanterns", "Winter Rooms",
            "A piano tuner visits the same six apartments every winter and notices who is gone.",
            2021, ("Drama",), "PG-13", ("0x1b2631", "0x85929e")),
    _shared("the-quiet-orbit", "Lighthouse Keepers",
            "Three generations of one family take turns on a rock in the North Sea.",
            2018, ("Drama", "Documentary"), "TV-PG", ("0x0b3954", "0xbfd7ea")),
    _shared("northern-lines", "Second Shift",
            "A nurse and a night-bus driver keep meeting at the same stop at 4 a.m.",
            2024, ("Drama", "Romance"), "PG-13", ("0x2c1340", "0xd1495b")),
    # --- Thriller / Crime -------------------------------------------------------------------
    _shared("glass-canyon", "Dead Reckoning",
            "A navigator who lost his memory must steer a yacht home with the man who robbed him.",
            2022, ("Thriller",), "R", ("0x03071e", "0x9d0208")),
    _shared("the-midnight-ledger", "Cold Ledger",
            "A forensic accountant follows one missing euro through eleven shell companies.",
            2020, ("Crime", "Thriller"), "TV-MA", ("0x101820", "0x5e8b7e")),
    _shared("night-harbor", "Harbour Watch",
            "Customs officers on a night shift open the one container nobody declared.",
            2021, ("Crime", "Drama"), "TV-14", ("0x061a40", "0x0353a4")),
    _shared("glass-canyon", "The Ninth Floor",
            "An elevator stops between floors with a witness, a lawyer and a lie inside.",
            2023, ("Thriller", "Crime"), "PG-13", ("0x1c1c1c", "0xe09f3e")),
    _shared("the-midnight-ledger", "Quiet Money",
            "A retired forger is asked to copy one last painting: her own.",
            2019, ("Crime",), "PG-13", ("0x2d2a32", "0xddd92a")),
    # --- Sci-Fi ------------------------------------------------------------------------------
    _shared("the-quiet-orbit", "Signal Lost",
            "A deep-space probe starts answering questions nobody has asked yet.",
            2025, ("Sci-Fi", "Thriller"), "PG-13", ("0x000814", "0x00b4d8")),
    _shared("the-quiet-orbit", "Red Dust Colony",
            "The first children born on Mars vote on whether to go home.",
            2024, ("Sci-Fi", "Drama"), "PG", ("0x3d0c02", "0xe85d04")),
    _shared("night-harbor", "The Last Satellite",
            "When the final satellite falls, a radio amateur becomes the only link between "
            "two continents.",
            2023, ("Sci-Fi",), "PG-13", ("0x10002b", "0x7b2cbf")),
    _shared("northern-lines", "Parallel Tracks",
            "A commuter train enters a tunnel in 2024 and comes out in two different years.",
            2022, ("Sci-Fi", "Thriller"), "PG-13", ("0x14213d", "0x8ecae6")),
    # --- Comedy / Romance --------------------------------------------------------------------
    _shared("paper-lanterns", "Plus One",
            "A caterer pretends to be a guest at the wedding she is cooking for.",
            2023, ("Comedy", "Romance"), "PG-13", ("0x9d4edd", "0xffd6ff")),
    _shared("paper-lanterns", "Bad Neighbours Club",
            "Five feuding neighbours are locked out of their building on the hottest day of "
            "the year.",
            2021, ("Comedy",), "PG", ("0xff6b35", "0xf7c59f")),
    _shared("tidepool-tales", "The Wrong Dog",
            "Two strangers take home each other's identical dogs and have to swap back.",
            2022, ("Comedy", "Family"), "G", ("0x6a994e", "0xf2e8cf")),
    _shared("salt-and-ember", "Love, Al Dente",
            "Rival pasta makers on the same street fall for each other's recipes first.",
            2020, ("Romance", "Comedy", "Food"), "PG", ("0xbc4749", "0xf2e8cf")),
    _shared("northern-lines", "Letters to Platform 4",
            "A station announcer reads a stranger's love letters aloud, one stop at a time.",
            2019, ("Romance", "Drama"), "PG", ("0x590d22", "0xff8fa3")),
    _shared("paper-lanterns", "Office Hours",
            "A night-school teacher and her oldest student plan a heist of the vending machine.",
            2024, ("Comedy",), "TV-14", ("0x3a86ff", "0xffbe0b")),
    # --- Action ------------------------------------------------------------------------------
    _shared("glass-canyon", "Blackwater Run",
            "A river guide has one raft, six hours and a flood behind her.",
            2023, ("Action", "Thriller"), "PG-13", ("0x001219", "0x0a9396")),
    _shared("night-harbor", "Iron Coast",
            "A coast-guard crew races a storm to reach a drifting oil platform.",
            2022, ("Action", "Drama"), "PG-13", ("0x212529", "0xadb5bd")),
    _shared("the-midnight-ledger", "Rooftop Protocol",
            "A bike courier carries the wrong package across a city that wants it back.",
            2024, ("Action", "Crime"), "TV-14", ("0x2b2d42", "0xef233c")),
    _shared("the-quiet-orbit", "Zero Altitude",
            "A test pilot lands a glider on a motorway with the whole country watching.",
            2021, ("Action",), "PG", ("0x023e8a", "0x90e0ef")),
    # --- Documentary / Food ------------------------------------------------------------------
    _shared("salt-and-ember", "Bread & Salt",
            "Bakers from six countries share the oldest loaf their family still bakes.",
            2022, ("Documentary", "Food"), "TV-G", ("0x7f5539", "0xede0d4")),
    _shared("northern-lines", "Deep Ice",
            "A season with the scientists who drill the Antarctic for the oldest air on Earth.",
            2023, ("Documentary", "Nature"), "TV-G", ("0x023047", "0x8ecae6")),
    _shared("the-quiet-orbit", "The Night Sky Atlas",
            "Amateur astronomers map the sky from the darkest places left in Europe.",
            2024, ("Documentary", "Nature"), "TV-G", ("0x03045e", "0xf72585")),
    _shared("salt-and-ember", "Street Kitchens",
            "Night markets from Taipei to Mexico City, one dish and one cook per stall.",
            2021, ("Food", "Documentary"), "TV-PG", ("0x9c6644", "0xfb8500")),
    _shared("night-harbor", "Wild Harbours",
            "Seals, otters and herons that live in the busiest ports of the North Atlantic.",
            2020, ("Nature", "Documentary"), "TV-G", ("0x1b4332", "0x95d5b2")),
    # --- Kids / Family / Animation -----------------------------------------------------------
    _shared("tidepool-tales", "Cloud Shepherds",
            "Two young shepherds herd clouds across the sky before the summer drought.",
            2023, ("Kids", "Animation"), "G", ("0x48cae4", "0xfff3b0")),
    _shared("tidepool-tales", "Robo & Bean",
            "A small robot and a bigger bean plant try to win the village garden show.",
            2024, ("Kids", "Animation", "Family"), "G", ("0x80ed99", "0x22577a")),
    _shared("tidepool-tales", "The Paper Kite",
            "A kite made of old maps carries a girl to every place printed on it.",
            2021, ("Kids", "Family"), "G", ("0xffafcc", "0xa2d2ff")),
    _shared("salt-and-ember", "Little Chefs",
            "Eight kids, one kitchen, and a cake that must feed a whole school.",
            2022, ("Kids", "Food", "Family"), "TV-Y", ("0xffc8dd", "0xcdb4db")),
    _shared("paper-lanterns", "Moonlight Circus",
            "The animals of a travelling circus put on a show while the humans sleep.",
            2020, ("Animation", "Family"), "G", ("0x22223b", "0xf4acb7")),
    _shared("tidepool-tales", "Snowpeak Rescue",
            "A team of mountain dogs learns to work together in their first winter.",
            2025, ("Kids", "Animation", "Family"), "TV-Y7", ("0xcaf0f8", "0x0096c7")),
)
"""34 titles over Drama, Thriller, Crime, Sci-Fi, Comedy, Romance, Action, Documentary, Food,
Nature, Kids, Animation and Family; 42 in the default catalog with the generated eight."""
