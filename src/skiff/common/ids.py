"""Identifiers: 64-hex ids, short ids, Docker-style random names."""

import os
import random
import re
from collections.abc import Set as AbstractSet

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
NAME_PATTERN = re.compile(r"^/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$")


def new_id() -> str:
    """A random 64-hex id, as Docker gives containers, execs and volumes."""
    return os.urandom(32).hex()


def short_id(full: str) -> str:
    """The 12-character form shown in tables."""
    if full.startswith("sha256:"):
        full = full[7:]
    return full[:12]


def is_full_id(s: str) -> bool:
    return bool(_HEX64.match(s))


_LEFT = (
    "admiring adoring affectionate agitated amazing angry awesome beautiful blissful bold boring brave busy "
    "charming clever compassionate competent condescending confident cool cranky crazy dazzling determined "
    "distracted dreamy eager ecstatic elastic elated elegant eloquent epic exciting fervent festive flamboyant "
    "focused friendly frosty funny gallant gifted goofy gracious great happy hardcore heuristic hopeful hungry "
    "infallible inspiring intelligent interesting jolly jovial keen kind laughing loving lucid magical "
    "modest musing mystifying naughty nervous nice nifty nostalgic objective optimistic peaceful pedantic "
    "pensive practical priceless quirky quizzical recursing relaxed reverent romantic sad serene sharp silly "
    "sleepy stoic strange stupefied suspicious sweet tender thirsty trusting unruffled upbeat vibrant vigilant "
    "vigorous wizardly wonderful xenodochial youthful zealous zen"
).split()
_RIGHT = (
    "agnesi albattani allen almeida archimedes ardinghelli aryabhata austin babbage banach bardeen bartik "
    "bassi beaver bell benz bhabha bhaskara blackwell bohr booth borg bose boyd brahmagupta brattain brown "
    "burnell cannon carson cartwright cerf chandrasekhar chatelet chatterjee chebyshev clarke colden cori "
    "cray curie darwin davinci diffie dijkstra dirac driscoll dubinsky easley edison einstein elgamal elion "
    "engelbart euclid euler faraday feistel fermat fermi feynman franklin gagarin galileo gates gauss "
    "germain goldberg goldstine golick goodall gould greider grothendieck haibt hamilton hawking heisenberg "
    "hermann hodgkin hofstadter hoover hopper hugle hypatia jackson jang jennings jepsen johnson joliot "
    "jones kalam kapitsa kare keldysh keller kepler khorana kilby kirch knuth kowalevski lalande lamarr "
    "lamport leakey leavitt lederberg lehmann lewin lichterman liskov lovelace lumiere mahavira margulis "
    "matsumoto maxwell mayer mccarthy mcclintock mclean mcnulty meitner mendel mendeleev merkle mestorf "
    "mirzakhani montalcini moore morse moser murdock napier nash neumann newton nightingale nobel noether "
    "northcutt noyce panini pare pascal pasteur payne perlman pike poincare poitras proskuriakova ptolemy "
    "raman ramanujan ride ritchie rhodes robinson roentgen rosalind rubin saha sammet sanderson satoshi "
    "shamir shannon shaw shirley shockley shtern sinoussi snyder solomon spence stonebraker sutherland "
    "swanson swartz swirles taussig tesla tharp thompson torvalds tu turing varahamihira vaughan villani "
    "visvesvaraya volhard wescoff wilbur wiles williams williamson wilson wing wozniak wright wu yalow "
    "yonath zhukovsky"
).split()


def random_name(taken: AbstractSet[str] = frozenset()) -> str:
    """A free `adjective_scientist` name, with a digit appended after collisions, as Docker does."""
    for attempt in range(100):
        name = f"{random.choice(_LEFT)}_{random.choice(_RIGHT)}"
        if attempt > 5:
            name += str(random.randint(0, 9))
        if name not in taken:
            return name
    return "container_" + new_id()[:12]
