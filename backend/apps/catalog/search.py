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
