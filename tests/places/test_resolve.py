"""resolve: the place named in free text, in en/fr/rw, with a typo or none; the more
specific and the longer name first; random words never resolve."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streams.places import PlaceKind, places, resolve
from streams.places.resolve import within_one_edit, words

# Common words of the texts users send (en, fr, rw), none of them a place.
NOT_PLACES = """
hello hi please thanks need want looking for find near nearby around in at from to the a an
and or of with my this here there today tomorrow morning evening night week month year
plumber electrician mechanic carpenter painter mason builder cleaner driver tailor barber
teacher nurse doctor cook security guard gardener house apartment room rooms bedroom kitchen
commercial office shop market rent rental price cheap expensive money salary job work worker
hire apply contact phone number call water electricity internet furnished parking garden
beans maize potatoes rice cassava bananas sorghum coffee tea tomatoes onions cabbage milk
eggs chicken goat honey sell buy farmer farm harvest sacks bags tonnes kilos fresh delivery
transport truck moto taxi bus station airport hospital school church repair leaking pipe
toilet roof window door engine battery generator remember remove remote camera camel general
garage manager massage village damage dinner
bonjour salut merci besoin cherche plombier electricien mecanicien menuisier maison
appartement chambre loyer prix travail emploi salaire acheter vendre haricots riz manioc lait
poulet demain matin soir semaine mois annee pres quartier ville centre marche gare ecole
hopital voiture reparation fuite toit fenetre porte
muraho mwaramutse mwiriwe murakoze ndashaka nshaka ndakeneye umufundi umukozi akazi inzu
amazu icyumba ibyumba igikoni amafaranga igiciro gukodesha kugura kugurisha ibishyimbo
ibigori ibirayi umuceri imyumbati ibitoki amata amagi inkoko ihene inka ubuki umuhinzi
umurima gusarura imifuka toni ibiro imodoka bisi isoko ishuri ibitaro amazi umuriro ejo none
nimugoroba mugitondo icyumweru ukwezi umwaka hafi kure mu ku kuri i muri kwa gukora gusana
gutega guteka gusukura kwigisha gutwara kubaka kudoda umwarimu umuganga umushoferi umuzamu
umucuruzi abakozi abana umugabo umugore umwana yego oya cyane neza byiza umujyi icyaro
intara akarere umurenge akagari umudugudu
""".split()  # noqa: SIM905 (a paragraph of words reads better than 280 quoted strings)


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        # surrounding words, in en/fr/rw
        ("in Kicukiro", "Kicukiro", "sector"),
        ("I need a plumber in Kicukiro", "Kicukiro", "sector"),
        ("à Nyamirambo", "Nyamirambo", "sector"),
        ("je cherche une chambre à Nyamirambo svp", "Nyamirambo", "sector"),
        ("i Remera", "Remera", "sector"),
        ("ndashaka umufundi i Kimironko", "Kimironko", "sector"),
        ("muri Gikondo", "Gikondo", "sector"),
        ("near Musanze", "Musanze", "district"),
        ("beans near Musanze, 200 kg", "Musanze", "district"),
        ("Rubavu", "Rubavu", "district"),
        # case, accents, punctuation
        ("NYAMIRÁMBO", "Nyamirambo", "sector"),
        ("nyamirambo!!!", "Nyamirambo", "sector"),
        ("(Remera)", "Remera", "sector"),
        ("huye.", "Huye", "district"),
        # one typo in a name of six letters or more, after its first letter
        ("Kimirongo", "Kimironko", "sector"),  # changed
        ("Nyamiramb", "Nyamirambo", "sector"),  # missing
        ("Remra", "Remera", "sector"),  # missing
        ("musanzee", "Musanze", "district"),  # added
        ("Kicukriro", "Kicukiro", "sector"),  # added
        ("Rmeera", "Remera", "sector"),  # swapped
        ("Gisozzi", "Gisozi", "sector"),
        # old names and neighbourhoods
        ("Butare", "Huye", "district"),
        ("in Ruhengeri", "Musanze", "district"),
        ("Gisenyi", "Rubavu", "district"),
        ("Nyarutarama", "Remera", "sector"),
        ("Kibagabaga", "Kimironko", "sector"),
        # the more specific place, the longer name
        ("Remera, Gasabo", "Remera", "sector"),
        ("Gasabo Remera", "Remera", "sector"),
        ("Gikondo, Kicukiro", "Gikondo", "sector"),
        ("Kicukiro district, Gikondo", "Gikondo", "sector"),
        ("Kicukiro", "Kicukiro", "sector"),  # a sector and its district: the sector
        ("Nyarugenge", "Nyarugenge", "sector"),
        ("Kigali", "Kigali", "sector"),  # the only place of that name is a sector
        ("Remera or Kimironko", "Kimironko", "sector"),
        ("Musanze Remera", "Remera", "sector"),
        ("Remra Gasabo", "Remera", "sector"),
        ("Kimironko Kimirongo", "Kimironko", "sector"),
        ("Musanz, Huye", "Huye", "district"),  # spelled right before a typo
    ],
)
def test_the_place_named(text: str, name: str, kind: str) -> None:
    place = resolve(text)
    assert place is not None, text
    assert (place.name, place.kind) == (name, PlaceKind(kind))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "!!!",
        "hello, I need a plumber",
        "nearby please",
        "Nairobi",
        "Kampala",
        "Bujumbura",
        "Kugarama",  # one letter from Kagarama and from Kigarama: no guess
        "Kenyinya",  # one letter from Kinyinya and from Kanyinya
        "Huy",  # short names must be spelled right
        "Ngom",
        "Jalli",
        "Xemera",  # a wrong first letter
        "Kimironkoooo",  # more than one typo
        "Nyamirmb",
        "gutega imodoka",  # a word one letter from Gitega
        "ibyumba bibiri",  # "two rooms", one letter (a prefix) from Byumba
        "abana",  # "children", one letter from Jabana
    ],
)
def test_nothing_is_resolved(text: str) -> None:
    assert resolve(text) is None


@pytest.mark.parametrize("word", NOT_PLACES)
def test_common_words_are_not_places(word: str) -> None:
    assert resolve(word) is None
    assert resolve(f"I need {word} please") is None


@pytest.mark.parametrize("place", places(), ids=lambda p: f"{p.kind}-{p.name}")
def test_every_place_is_found_by_its_name_in_every_language(place: object) -> None:
    from streams.places import Place

    assert isinstance(place, Place)
    expected = place if place.name not in ("Kicukiro", "Nyarugenge") else None
    for text in (f"in {place.name}", f"à {place.name.upper()}", f"i {place.name.lower()}"):
        found = resolve(text)
        assert found is not None
        if expected is not None:
            assert found == expected
        else:  # the sector of that name, not the district
            assert (found.name, found.kind) == (place.name, PlaceKind.SECTOR)


def test_within_one_edit() -> None:
    assert within_one_edit("remera", "remera")
    assert within_one_edit("remera", "remra")
    assert within_one_edit("remra", "remera")
    assert within_one_edit("remera", "rmeera")
    assert within_one_edit("remera", "remerax")
    assert within_one_edit("remera", "xemera")
    assert not within_one_edit("remera", "rmeeraa")
    assert not within_one_edit("remera", "emerar")
    assert not within_one_edit("remera", "rem")
    assert not within_one_edit("abcd", "badc")


def test_words() -> None:
    assert words("À l'École, Nyamirámbo!") == ["a", "l", "ecole", "nyamirambo"]


@given(st.text())
def test_never_raises(text: str) -> None:
    place = resolve(text)
    assert place is None or place in places()


@given(st.text(alphabet="bdfhpqvwxz", min_size=1, max_size=12))
def test_random_words_without_a_vowel_never_resolve(text: str) -> None:
    assert resolve(text) is None
