"""Container names: validation with Docker's wording and generated adjective_surname names.

The word lists are our own; like Docker's generator the second word is a person famous in
science or engineering, and a retry appends a digit.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from sampan.errdefs import InvalidArgument

_VALID = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")

ADJECTIVES = (
    "agile", "amber", "ardent", "brave", "bright", "calm", "careful", "cheerful", "clever", "cosmic",
    "curious", "daring", "eager", "earnest", "elegant", "fearless", "fond", "gentle", "gifted", "glad",
    "graceful", "hardy", "honest", "humble", "jolly", "keen", "kind", "lively", "lucid", "merry",
    "mindful", "modest", "nimble", "noble", "patient", "plucky", "quiet", "radiant", "rapid", "serene",
    "sharp", "shiny", "steady", "sunny", "swift", "tender", "thrifty", "tidy", "upbeat", "vivid",
    "warm", "wise", "witty", "zealous",
)

SURNAMES = (
    "agnesi", "ampere", "babbage", "bardeen", "bernoulli", "bohr", "boole", "cannon", "carson", "cauchy",
    "curie", "darwin", "dijkstra", "euler", "faraday", "fermat", "fermi", "feynman", "franklin", "galois",
    "gauss", "germain", "goodall", "hamilton", "hawking", "hertz", "hopper", "hypatia", "johnson", "joule",
    "kepler", "knuth", "kovalevskaya", "lamarr", "laplace", "lovelace", "maxwell", "meitner", "mendel",
    "newton", "noether", "pascal", "pasteur", "planck", "ramanujan", "ritchie", "shannon", "somerville",
    "tesla", "thompson", "turing", "volta", "wozniak", "yalow",
)


def validate(name: str) -> str:
    """`name` without its leading slash; InvalidArgument with Docker's message if malformed."""
    if not _VALID.match(name):
        raise InvalidArgument(f"Invalid container name ({name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed")
    return name.lstrip("/")


def generate(taken: Callable[[str], bool], rng: random.Random | None = None) -> str:
    """A free adjective_surname (with a digit appended after collisions)."""
    rng = rng or random.Random()
    for attempt in range(100):
        name = f"{rng.choice(ADJECTIVES)}_{rng.choice(SURNAMES)}"
        if attempt >= 3:
            name += str(rng.randint(0, 9 if attempt < 10 else 9999))
        if not taken(name):
            return name
    raise InvalidArgument("cannot generate a free container name")
