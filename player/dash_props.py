"""DASH descriptors the reader acts on: ``EssentialProperty`` (an element whose property is not
understood is ignored, ISO/IEC 23009-1 §5.8.4.8) and ``ContentProtection`` systems by name.
"""

from __future__ import annotations

from collections.abc import Iterable
from xml.dom import minidom

from player.errors import ManifestError
from player.presentation import ContentProtection

TRICKMODE = "http://dashif.org/guidelines/trickmode"
"""The EssentialProperty of a trick-mode (I-frame) AdaptationSet: never played as the video."""

UNDERSTOOD_ESSENTIAL = frozenset({
    # colour signalling (DASH-IF IOP HDR/SDR): the decoder reads the same from the bitstream
    "urn:mpeg:mpegB:cicp:TransferCharacteristics",
    "urn:mpeg:mpegB:cicp:ColourPrimaries",
    "urn:mpeg:mpegB:cicp:MatrixCoefficients",
})
"""EssentialProperty schemes whose element still plays (trick mode is handled apart)."""


def unknown_essential(node: object) -> str | None:
    """The first EssentialProperty scheme of ``node`` that is not understood (None: all are)."""
    for prop in getattr(node, "essential_properties", None) or []:
        scheme = prop.scheme_id_uri or ""
        if scheme != TRICKMODE and scheme not in UNDERSTOOD_ESSENTIAL:
            return scheme or "(no schemeIdUri)"
    return None


def is_trick_mode(node: object) -> bool:
    return any(p.scheme_id_uri == TRICKMODE
               for p in getattr(node, "essential_properties", None) or [])


UNDECODABLE_AUDIO = ("ac-4", "mha1", "mha2", "mhm1", "mhm2", "dtsx", "dtsy")
"""Audio codecs (``codecs`` prefixes) the machine's libavcodec 59 has no decoder for: Dolby
AC-4, MPEG-H 3D Audio, DTS-UHD (DTS:X profile 2)."""


def undecodable_audio(adaptation: object, reps: list[object]) -> str | None:
    """The codec of an audio AdaptationSet whose every Representation is in a codec that
    cannot be decoded (None: something in it can)."""
    codecs = [(getattr(r, "codecs", None) or getattr(adaptation, "codecs", None) or "").lower()
              for r in reps]
    if codecs and all(c.startswith(UNDECODABLE_AUDIO) for c in codecs):
        return codecs[0]
    return None


MP4PROTECTION = "urn:mpeg:dash:mp4protection:2011"
CLEARKEY_SYSTEMS = frozenset({
    "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e",  # DASH-IF ClearKey
    "urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b",  # W3C common (clearkey pssh)
})
DRM_SYSTEMS = {
    "urn:uuid:edef8ba9-79d6-4ace-a3c8-27dcd51d21ed": "Widevine",
    "urn:uuid:9a04f079-9840-4286-ab92-e65be0885f95": "PlayReady",
    "urn:uuid:79f0049a-4098-8642-ab92-e65be0885f95": "PlayReady",  # byte-swapped, seen in MPDs
    "urn:uuid:94ce86fb-07ff-4f43-adb8-93d2fa968ca2": "FairPlay",
    "urn:uuid:5e629af5-38da-4063-8977-97ffbd9902d4": "Marlin",
    "urn:uuid:f239e769-efa3-4850-9c16-a903c6932efb": "Adobe Primetime",
    "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e": "ClearKey",
    "urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b": "ClearKey",
}


def system_names(protection: Iterable[ContentProtection]) -> list[str]:
    """The DRM systems ``protection`` signals, by name (the scheme URI when unknown)."""
    names = []
    for cp in protection:
        scheme = cp.scheme_id_uri.lower()
        if scheme == MP4PROTECTION:
            continue
        names.append(DRM_SYSTEMS.get(scheme, cp.scheme_id_uri or "?"))
    return list(dict.fromkeys(names))


def check_protection(protection: tuple[ContentProtection, ...], allow_protected: bool) -> None:
    """Refuse an encrypted MPD unless its caller decrypts (``allow_protected``) and it is
    decryptable without a DRM licence: a ``cenc:default_KID`` (keys given by KID) or ClearKey."""
    if not protection:
        return
    systems = system_names(protection)
    scheme = next((c.value for c in protection
                   if c.scheme_id_uri.lower() == MP4PROTECTION and c.value), None)
    kid = next((c.default_kid for c in protection if c.default_kid), None)
    named = ", ".join(([scheme] if scheme else []) + systems) or "unnamed scheme"
    if not allow_protected:
        raise ManifestError(f"The MPD is encrypted ({named}"
                            + (f", default_KID {kid}" if kid else "")
                            + "): encrypted DASH (CENC) is not supported yet.")
    clearkey = any(c.scheme_id_uri.lower() in CLEARKEY_SYSTEMS for c in protection)
    if kid is None and not clearkey:
        drm = ", ".join(systems) or named
        raise ManifestError(f"The MPD is protected with {drm} DRM only (no ClearKey and no "
                            "cenc:default_KID): DRM licences are not supported, only "
                            "ClearKey / known-key CENC.")


CENC_NS = "urn:mpeg:cenc:2013"
XLINK_NS = "http://www.w3.org/1999/xlink"
RESOLVE_TO_ZERO = "urn:mpeg:dash:resolve-to-zero:2013"


def prepare(root: minidom.Document) -> None:
    """Ready the parsed MPD for ``mpegdash``'s nodes, which read attributes by their written
    name: a ``default_KID`` in the CENC namespace under any prefix (``ns0:default_KID``) is
    given the ``cenc:`` one too; a ``<Label>`` element (DASH's, which the nodes drop) becomes its
    parent's ``label`` attribute (the rendition's name), the first one winning. Remote
    elements: ``xlink:href`` to ``resolve-to-zero`` removes the element (as the standard
    says); any other is refused, naming the element."""
    for element in list(root.getElementsByTagName("*")):
        if element.localName == "Label" and element.parentNode is not None:
            parent = element.parentNode
            if isinstance(parent, minidom.Element) and not parent.hasAttribute("label"):
                text = "".join(n.data for n in element.childNodes
                               if isinstance(n, minidom.Text)).strip()
                if text:
                    parent.setAttribute("label", text[:100])
        kid = element.getAttributeNS(CENC_NS, "default_KID")
        if kid and not element.hasAttribute("cenc:default_KID"):
            element.setAttribute("cenc:default_KID", kid)
        if element.hasAttributeNS(XLINK_NS, "href"):
            href = element.getAttributeNS(XLINK_NS, "href").strip()
            if href == RESOLVE_TO_ZERO:
                if element.parentNode is not None:
                    element.parentNode.removeChild(element)
                continue
            raise ManifestError(f"The MPD's {element.localName} is a remote element "
                                f"(xlink:href {href[:80]!r}): remote elements are not "
                                "supported.")


def roles(node: object) -> set[str]:
    return {str(r.value) for r in getattr(node, "roles", None) or [] if r.value}


def is_secondary_video(adaptation: object, others: list[object]) -> bool:
    """A video AdaptationSet whose ``Role`` is only other than ``main`` (``alternate``,
    ``sign``, ``commentary``…: another angle or a signer) while ``others`` hold a main video
    (Role ``main``, or none): not a rung of the main ladder."""
    mine = roles(adaptation)
    if not mine or "main" in mine:
        return False
    return any(not roles(o) or "main" in roles(o) for o in others if o is not adaptation)
