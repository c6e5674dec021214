"""Language codes and display names for the tracks of ingested files."""

from __future__ import annotations

_TWO_LETTER = {
    "eng": "en", "spa": "es", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "ita": "it",
    "por": "pt", "nld": "nl", "dut": "nl", "swe": "sv", "nor": "no", "dan": "da", "fin": "fi",
    "pol": "pl", "rus": "ru", "tur": "tr", "jpn": "ja", "kor": "ko", "zho": "zh", "chi": "zh",
    "ara": "ar", "hin": "hi",
}
_NAMES = {
    "en": "English", "es": "Español", "fr": "Français", "de": "Deutsch", "it": "Italiano",
    "pt": "Português", "nl": "Nederlands", "sv": "Svenska", "no": "Norsk", "da": "Dansk",
    "fi": "Suomi", "pl": "Polski", "ru": "Русский", "tr": "Türkçe", "ja": "日本語",
    "ko": "한국어", "zh": "中文", "ar": "العربية", "hi": "हिन्दी",
}
UNDETERMINED = "und"


def to_bcp47(tag: str | None) -> str:
    """``"eng"`` → ``"en"``; unknown or missing tags become ``"und"``."""
    if not tag:
        return UNDETERMINED
    tag = tag.lower()
    if len(tag) == 2:
        return tag
    return _TWO_LETTER.get(tag, UNDETERMINED if tag == UNDETERMINED else tag)


def display_name(language: str, fallback: str) -> str:
    return _NAMES.get(language, fallback)
