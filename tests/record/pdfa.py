"""The ISO 19005-3 (PDF/A-3b) rules that concern our record files, checked with pypdf.

veraPDF cannot be installed here, so these checks mirror the veraPDF rules that a WeasyPrint
record sealed by pyHanko could break: the file structure, images, fonts, colour, metadata and
associated files. Each check names the veraPDF rule (ISO 19005-3 clause, test number) it
mirrors; `pdfa_failures` returns the rules a file breaks, each with what was found.

A sealed file is checked as a whole (its newest revision, as a reader sees it) and its first
revision separately where a rule is about what the seal's update may change (the metadata).
"""

import io
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from typing import Any

from fontTools.ttLib import TTFont
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, StreamObject

Check = Callable[[PdfReader, bytes], list[str]]

PDFAID = "http://www.aiim.org/pdfa/ns/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XMP_NAMES = {
    # Info entry -> (namespace, property) of its XMP equivalent (ISO 19005-3, 6.6.2.3.1)
    "/Title": ("http://purl.org/dc/elements/1.1/", "title"),
    "/Author": ("http://purl.org/dc/elements/1.1/", "creator"),
    "/Subject": ("http://purl.org/dc/elements/1.1/", "description"),
    "/Keywords": ("http://ns.adobe.com/pdf/1.3/", "Keywords"),
    "/Creator": ("http://ns.adobe.com/xap/1.0/", "CreatorTool"),
    "/Producer": ("http://ns.adobe.com/pdf/1.3/", "Producer"),
    "/CreationDate": ("http://ns.adobe.com/xap/1.0/", "CreateDate"),
    "/ModDate": ("http://ns.adobe.com/xap/1.0/", "ModifyDate"),
}
WIDTH_TOLERANCE = 1  # veraPDF allows a difference of one unit in 1000


def all_objects(reader: PdfReader) -> Iterator[Any]:
    """Every indirect object of the file's current revision, resolved."""
    numbers = {
        (generation, number) for generation, table in reader.xref.items() for number in table
    }
    numbers |= {(0, number) for number in reader.xref_objStm}
    for generation, number in sorted(numbers):
        try:
            yield reader.get_object(IndirectObject(number, generation, reader))
        except Exception:  # noqa: S112 - a free or damaged entry: other rules judge the structure
            continue


def _header(reader: PdfReader, data: bytes) -> list[str]:
    """6.1.2-1: the header is %PDF-1.n (n in 0..7); the catalog may not raise it to 2.0."""
    problems = []
    match = re.match(rb"%PDF-(\d)\.(\d)", data)
    if not match or (int(match[1]), int(match[2])) > (1, 7):
        problems.append(f"header {data[:8]!r}")
    version = reader.trailer["/Root"].get("/Version")
    if version is not None and str(version).lstrip("/") > "1.7":
        problems.append(f"catalog /Version {version}")
    return problems


def _binary_comment(reader: PdfReader, data: bytes) -> list[str]:
    """6.1.2-2: the header line is followed by a comment of at least four bytes above 127."""
    second_line = data.split(b"\n", 2)[1] if data.count(b"\n") >= 2 else b""
    binary = sum(byte > 127 for byte in second_line)
    return [] if second_line.startswith(b"%") and binary >= 4 else ["no binary comment"]


def _trailer_id(reader: PdfReader, data: bytes) -> list[str]:
    """6.1.3-1: the trailer carries a file identifier (/ID)."""
    return [] if "/ID" in reader.trailer else ["no /ID in the trailer"]


def _no_encryption(reader: PdfReader, data: bytes) -> list[str]:
    """6.1.3-2: no /Encrypt in the trailer."""
    return ["the file is encrypted"] if "/Encrypt" in reader.trailer else []


def _output_intent(reader: PdfReader, data: bytes) -> list[str]:
    """6.2.3-2/-3 and 6.2.4.3-2: a GTS_PDFA1 output intent with an RGB ICC profile (v2-4,
    class mntr or prtr), which is what lets the pages paint in DeviceRGB."""
    intents = reader.trailer["/Root"].get("/OutputIntents")
    if not intents:
        return ["no /OutputIntents"]
    pdfa = [i.get_object() for i in intents if i.get_object().get("/S") == "/GTS_PDFA1"]
    if len(pdfa) != 1:
        return [f"{len(pdfa)} GTS_PDFA1 output intents"]
    profile = pdfa[0].get("/DestOutputProfile")
    if profile is None:
        return ["the output intent has no /DestOutputProfile"]
    icc = profile.get_object().get_data()
    problems = []
    if icc[36:40] != b"acsp":
        problems.append("DestOutputProfile is not an ICC profile")
    if icc[8] > 4:
        problems.append(f"ICC version {icc[8]}")
    if icc[12:16] not in (b"mntr", b"prtr"):
        problems.append(f"ICC class {icc[12:16]!r}")
    if icc[16:20] != b"RGB ":
        problems.append(f"ICC colour space {icc[16:20]!r} for an RGB document")
    return problems


def _no_interpolation(reader: PdfReader, data: bytes) -> list[str]:
    """6.2.8-3: an image dictionary's /Interpolate, if any, is false (soft masks included)."""
    return [
        f"image object {obj.indirect_reference.idnum if obj.indirect_reference else '?'}"
        " has /Interpolate other than false"
        for obj in all_objects(reader)
        if isinstance(obj, StreamObject)
        and obj.get("/Subtype") == "/Image"
        and obj.get("/Interpolate", False) != False  # noqa: E712 (a pypdf BooleanObject)
    ]


def _fonts(reader: PdfReader) -> Iterator[DictionaryObject]:
    for obj in all_objects(reader):
        if isinstance(obj, DictionaryObject) and obj.get("/Type") == "/Font":
            yield obj


def _descendant(font: DictionaryObject) -> DictionaryObject:
    if font.get("/Subtype") == "/Type0":
        return font["/DescendantFonts"][0].get_object()
    return font


def _fonts_embedded(reader: PdfReader, data: bytes) -> list[str]:
    """6.2.11.4.1-1: every font used (Type 3 aside) has its program embedded."""
    problems = []
    for font in _fonts(reader):
        if font.get("/Subtype") == "/Type3":
            continue
        if font.get("/Subtype") in ("/CIDFontType0", "/CIDFontType2"):
            continue  # checked through its Type 0 parent
        descriptor = _descendant(font).get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            problems.append(f"{font.get('/BaseFont')} is not embedded")
    return problems


def _cid_widths(cid_font: DictionaryObject) -> dict[int, float]:
    """The /W array of a CIDFont as {cid: width}."""
    widths: dict[int, float] = {}
    entries = list(cid_font.get("/W", ArrayObject()))
    index = 0
    while index < len(entries):
        first = int(entries[index])
        following = entries[index + 1]
        if isinstance(following, (list, ArrayObject)):
            for offset, width in enumerate(following):
                widths[first + offset] = float(width)
            index += 2
        else:
            last, width = int(following), float(entries[index + 2])
            for cid in range(first, last + 1):
                widths[cid] = width
            index += 3
    return widths


def _font_widths_match(reader: PdfReader, data: bytes) -> list[str]:
    """6.2.11.5-1: the widths in the font dictionary agree with the embedded program's."""
    problems = []
    for font in _fonts(reader):
        if font.get("/Subtype") != "/Type0":
            if font.get("/Subtype") not in ("/Type3", "/CIDFontType0", "/CIDFontType2"):
                problems.append(f"{font.get('/BaseFont')}: simple font widths not checked")
            continue
        cid_font = _descendant(font)
        descriptor = cid_font["/FontDescriptor"].get_object()
        program = descriptor.get("/FontFile2") or descriptor.get("/FontFile3")
        if program is None:
            continue  # reported by 6.2.11.4.1-1
        ttf = TTFont(io.BytesIO(program.get_object().get_data()))
        scale = 1000 / ttf["head"].unitsPerEm
        advances = [width for width, _lsb in (ttf["hmtx"][name] for name in ttf.getGlyphOrder())]
        to_gid = cid_font.get("/CIDToGIDMap", "/Identity")
        gid_map: bytes | None = None
        if not isinstance(to_gid, str):
            gid_map = to_gid.get_object().get_data()
        for cid, width in _cid_widths(cid_font).items():
            gid = cid if gid_map is None else int.from_bytes(gid_map[2 * cid : 2 * cid + 2])
            if gid >= len(advances):
                problems.append(f"{font.get('/BaseFont')}: CID {cid} has no glyph")
                continue
            if abs(advances[gid] * scale - width) > WIDTH_TOLERANCE:
                problems.append(
                    f"{font.get('/BaseFont')}: CID {cid} is {width} wide in /W, "
                    f"{advances[gid] * scale:.0f} in the font"
                )
    return problems


def xmp_of(reader: PdfReader) -> ET.Element:
    metadata = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    packet = metadata.decode("utf-8").split("?>", 1)[1].rsplit("<?xpacket", 1)[0]
    return ET.fromstring(packet)  # noqa: S314 (files this test suite made itself)


def _xmp_value(xmp: ET.Element, namespace: str, name: str) -> str | None:
    """A property written as an attribute or an element, its first rdf:li for containers."""
    for description in xmp.iter(f"{{{RDF}}}Description"):
        attribute = description.get(f"{{{namespace}}}{name}")
        if attribute is not None:
            return attribute
        element = description.find(f"{{{namespace}}}{name}")
        if element is not None:
            item = element.find(f".//{{{RDF}}}li")
            return (item if item is not None else element).text or ""
    return None


def _metadata_stream(reader: PdfReader, data: bytes) -> list[str]:
    """6.6.2.1-1: the catalog has an XMP metadata stream that parses."""
    try:
        xmp_of(reader)
    except (KeyError, ET.ParseError, IndexError, UnicodeDecodeError) as error:
        return [f"no readable XMP metadata: {type(error).__name__}"]
    return []


def _pdfaid(reader: PdfReader, data: bytes) -> list[str]:
    """6.6.4-1: XMP identifies the file as PDF/A part 3, conformance B."""
    try:
        xmp = xmp_of(reader)
    except Exception:
        return ["no XMP"]
    part = _xmp_value(xmp, PDFAID, "part")
    conformance = _xmp_value(xmp, PDFAID, "conformance")
    return [] if (part, conformance) == ("3", "B") else [f"pdfaid {part}/{conformance}"]


def _pdf_date(value: str) -> str:
    """A PDF date (D:20260305140211Z, D:...+01'00') as the XMP form it must equal."""
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(Z|[+-]\d{2}'?\d{2}'?)?", value)
    if not match:
        return value
    zone = (match[7] or "").replace("'", "")
    zone = "Z" if zone in ("Z", "+0000", "-0000") else (f"{zone[:3]}:{zone[3:]}" if zone else "")
    return f"{match[1]}-{match[2]}-{match[3]}T{match[4]}:{match[5]}:{match[6]}{zone}"


def _xmp_date(value: str) -> str:
    return value.replace("+00:00", "Z")


def _info_agrees_with_xmp(reader: PdfReader, data: bytes) -> list[str]:
    """6.6.2.3.1-1 to -9: each Info entry equals its XMP equivalent, which must exist."""
    info = reader.trailer.get("/Info")
    if info is None:
        return []
    info = info.get_object()
    try:
        xmp = xmp_of(reader)
    except Exception:
        return ["no XMP"]
    problems = []
    for key, (namespace, name) in XMP_NAMES.items():
        if key not in info:
            continue
        mine = str(info[key])
        theirs = _xmp_value(xmp, namespace, name)
        if key.endswith("Date"):
            mine, theirs = _pdf_date(mine), _xmp_date(theirs) if theirs is not None else None
        if theirs != mine:
            problems.append(f"Info {key} {mine!r} but XMP {name} {theirs!r}")
    return problems


def _associated_files(reader: PdfReader, data: bytes) -> list[str]:
    """6.8-2/-3/-4/-5: each embedded file's specification has /F and /UF, an
    /AFRelationship, a MIME /Subtype on its stream, and is listed in the catalog's /AF."""
    root = reader.trailer["/Root"]
    listed = [entry.idnum for entry in root.get("/AF", ArrayObject())]
    names = root.get("/Names", DictionaryObject()).get("/EmbeddedFiles")
    specs = list(names.get_object().get("/Names", ArrayObject())[1::2]) if names else []
    problems = []
    for spec_ref in specs:
        spec = spec_ref.get_object()
        label = spec.get("/UF") or spec.get("/F")
        if "/F" not in spec or "/UF" not in spec:
            problems.append(f"{label}: /F and /UF not both given (6.8-2)")
        if spec.get("/AFRelationship") not in (
            "/Source",
            "/Data",
            "/Alternative",
            "/Supplement",
            "/EncryptedPayload",
            "/FormData",
            "/Schema",
            "/Unspecified",
        ):
            problems.append(f"{label}: /AFRelationship {spec.get('/AFRelationship')} (6.8-3)")
        stream = spec["/EF"]["/F"].get_object()
        if not re.fullmatch(r"/[a-z]+#2F[-+.\w#]+|/[a-z]+/[-+.\w]+", str(stream.get("/Subtype"))):
            problems.append(f"{label}: no MIME /Subtype on the file stream (6.8-4)")
        if spec_ref.idnum not in listed:
            problems.append(f"{label}: not in the catalog's /AF (6.8-5)")
    return problems


def _one_af_entry_per_file(reader: PdfReader, data: bytes) -> list[str]:
    """ISO 19005-3 6.8 (and ISO 32000-2 14.13): each associated file is listed once in /AF.

    veraPDF has no test for this; a duplicate is still a file that says a thing twice."""
    listed = [entry.idnum for entry in reader.trailer["/Root"].get("/AF", ArrayObject())]
    return [
        f"object {n} listed {listed.count(n)} times" for n in set(listed) if listed.count(n) > 1
    ]


def _no_javascript(reader: PdfReader, data: bytes) -> list[str]:
    """6.6.1-1 / 6.6.2-1 (actions): no JavaScript, Launch or other forbidden action, no
    additional-actions (/AA) on the catalog, no /JavaScript name tree."""
    problems = []
    root = reader.trailer["/Root"]
    if "/AA" in root:
        problems.append("the catalog has /AA")
    if "/JavaScript" in root.get("/Names", DictionaryObject()):
        problems.append("a /JavaScript name tree")
    forbidden = {
        "/JavaScript",
        "/Launch",
        "/Sound",
        "/Movie",
        "/ResetForm",
        "/ImportData",
        "/Hide",
        "/SetOCGState",
        "/Rendition",
        "/Trans",
        "/GoTo3DView",
    }
    for obj in all_objects(reader):
        for dictionary in _direct_dictionaries(obj):
            if dictionary.get("/S") in forbidden:
                problems.append(f"a {dictionary['/S']} action")
    return problems


def _direct_dictionaries(obj: Any) -> Iterator[DictionaryObject]:
    """`obj` and the dictionaries written inside it (references are visited on their own)."""
    if isinstance(obj, IndirectObject):
        return
    if isinstance(obj, DictionaryObject):
        yield obj
        for value in obj.values():
            yield from _direct_dictionaries(value)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            yield from _direct_dictionaries(value)


# veraPDF rule -> check. A rule's failures are listed under its name.
RULES: dict[str, Check] = {
    "6.1.2-1 header version": _header,
    "6.1.2-2 binary comment": _binary_comment,
    "6.1.3-1 trailer ID": _trailer_id,
    "6.1.3-2 no encryption": _no_encryption,
    "6.2.3-3 / 6.2.4.3-2 output intent": _output_intent,
    "6.2.8-3 no interpolation": _no_interpolation,
    "6.2.11.4.1-1 fonts embedded": _fonts_embedded,
    "6.2.11.5-1 font widths": _font_widths_match,
    "6.6.2.1-1 XMP metadata": _metadata_stream,
    "6.6.4-1 pdfaid part and conformance": _pdfaid,
    "6.6.2.3.1 Info agrees with XMP": _info_agrees_with_xmp,
    "6.8-2..5 associated files": _associated_files,
    "6.8 one /AF entry per file": _one_af_entry_per_file,
    "6.6.1 no JavaScript or forbidden actions": _no_javascript,
}


def revisions(data: bytes) -> list[bytes]:
    """Each revision of an incrementally updated file: the bytes up to each %%EOF."""
    ends = [m.end() for m in re.finditer(rb"%%EOF\r?\n?", data)]
    return [data[:end] for end in ends]


def pdfa_failures(data: bytes) -> dict[str, list[str]]:
    """The rules `data` breaks, with what was found; empty when it conforms to all of them."""
    reader = PdfReader(io.BytesIO(data))
    failures = {}
    for rule, check in RULES.items():
        found = check(reader, data)
        if found:
            failures[rule] = found
    return failures


def metadata_of(data: bytes) -> tuple[dict[str, str], bytes]:
    """The Info dictionary and the XMP bytes the file's newest revision states."""
    reader = PdfReader(io.BytesIO(data))
    info = reader.trailer.get("/Info")
    entries = {str(k): str(v) for k, v in info.get_object().items()} if info is not None else {}
    return entries, reader.trailer["/Root"]["/Metadata"].get_object().get_data()
