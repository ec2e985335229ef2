"""Search text the way people type it: Arabic letters that are written interchangeably fold to one form.

`normalize()` is applied to what is stored (`Business.search_text`) and to what is searched (`q`), so a
substring match of one in the other ignores:

- diacritics (harakat, tanwin, shadda, sukun, superscript alef) and tatweel (ـ),
- alef forms: أ إ آ ٱ → ا,
- taa marbuta ة → ه, alef maqsura ى → ي, hamza on waw/yaa ؤ ئ → و ي,
- Arabic-Indic and Persian digits → 0-9,
- Latin case and accents (NFKD, then lower case), and runs of spaces and punctuation → one space.
"""

from __future__ import annotations

import re
import unicodedata

_DIACRITICS = re.compile("[\u0610-\u061a\u064b-\u065f\u0670\u06d6-\u06ed\u0640]")
_FOLD = str.maketrans(
    {
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ة": "ه",
        "ى": "ي",
        "ؤ": "و",
        "ئ": "ي",
        **{chr(0x0660 + d): str(d) for d in range(10)},
        **{chr(0x06F0 + d): str(d) for d in range(10)},
    }
)
_SEPARATORS = re.compile(r"[\W_]+", re.UNICODE)


def normalize(text: str) -> str:
    """The folded, lower-case form of `text` (see the module's docstring); "" for blank input."""
    text = _DIACRITICS.sub("", text or "")
    text = text.translate(_FOLD)
    # Latin accents: decompose, drop the combining marks (Arabic ones are gone already).
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    # NFKD turns some Arabic presentation forms back into letters that need folding again.
    text = _DIACRITICS.sub("", text).translate(_FOLD)
    return _SEPARATORS.sub(" ", text.lower()).strip()


# Saudi cities people write in Arabic or in English (and in several English spellings): each spelling folds to
# one key, so that `city=Riyadh` finds a branch whose city was typed "الرياض" and the other way round.
_CITIES: dict[str, tuple[str, ...]] = {
    "الرياض": ("riyadh", "riyad", "ar riyadh", "al riyadh", "riyadh city"),
    "جده": ("jeddah", "jedda", "jiddah", "jidda"),
    "مكه": ("makkah", "mecca", "makka", "mekkah", "makkah al mukarramah", "مكة المكرمة"),
    "المدينه": ("madinah", "medina", "al madinah", "madina", "al madinah al munawwarah", "المدينة المنورة"),
    "الدمام": ("dammam", "ad dammam", "al dammam"),
    "الخبر": ("khobar", "al khobar", "al khubar", "alkhobar"),
    "الظهران": ("dhahran", "dhahran city"),
    "الطايف": ("taif", "at taif", "al taif"),
    "تبوك": ("tabuk", "tabouk"),
    "بريده": ("buraydah", "buraidah", "buraida"),
    "ابها": ("abha",),
    "خميس مشيط": ("khamis mushait", "khamis mushayt"),
    "حايل": ("hail", "ha il", "hayil"),
    "جازان": ("jazan", "jizan", "gizan"),
    "نجران": ("najran",),
    "الاحساء": ("al ahsa", "al hasa", "hofuf", "al hofuf", "alahsa"),
    "الجبيل": ("jubail", "al jubail"),
    "ينبع": ("yanbu", "yanbu al bahr"),
    "القطيف": ("qatif", "al qatif"),
    "الخرج": ("al kharj", "kharj"),
    "عنيزه": ("unaizah", "unayzah", "onaizah"),
    "الباحه": ("al baha", "baha", "al bahah"),
    "عرعر": ("arar",),
    "سكاكا": ("sakaka", "skaka"),
}
_CITY_KEYS: dict[str, str] = {}
for _arabic, _english in _CITIES.items():
    _CITY_KEYS[normalize(_arabic)] = normalize(_arabic)
    for _spelling in _english:
        _CITY_KEYS[normalize(_spelling)] = normalize(_arabic)


def city_key(city: str) -> str:
    """The key a city is compared by: the normalized Arabic name of a known Saudi city in any of its spellings
    (with or without the article: "Riyadh", "الرياض", "رياض"), else the normalized text."""
    text = normalize(city)
    if text in _CITY_KEYS:
        return _CITY_KEYS[text]
    for prefix in ("ال", "al "):  # "رياض" / "al riyadh" -> the same city as "الرياض" / "riyadh"
        if text.startswith(prefix) and text[len(prefix) :] in _CITY_KEYS:
            return _CITY_KEYS[text[len(prefix) :]]
        if f"{prefix}{text}" in _CITY_KEYS:
            return _CITY_KEYS[f"{prefix}{text}"]
    return text


def known_city(city: str) -> tuple[str, str] | None:
    """(Arabic name, English name) of a known Saudi city in any of its spellings, else None."""
    key = city_key(city)
    arabic = next((a for a in _CITIES if normalize(a) == key), None)
    return None if arabic is None else (arabic, _CITIES[arabic][0])


def city_names(city: str) -> str:
    """A city as searchable text: what was typed plus its known Arabic and first English spelling ("Riyadh" also
    finds "الرياض")."""
    names = [normalize(city)]
    known = known_city(city)
    if known is not None:
        names += [normalize(known[0]), normalize(known[1])]
    return " ".join(dict.fromkeys(n for n in names if n))


def like_pattern(text: str) -> str:
    """`%text%` for LIKE, with LIKE's own wildcards escaped (the default escape character is a backslash)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"
