"""Builds small EVTX files byte by byte for tests that need hostile or unusual
layouts (docs/evtx-format.md): nested templates, many chunks, cut headers.

Standard library only. Checksums are computed, so files pass CRC checks.

    chunk = Chunk()
    body = chunk.plain_event(event_id=7)      # BinXml for <Event>..</Event>
    chunk.record(1, body)
    image = evtx_file([chunk.image()])
"""

import struct
import zlib

HEADER = 4096
CHUNK = 65536
CHUNK_HEADER = 512
RECORD_HEADER = 24


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def file_header(chunk_count, next_record_id=1, flags=0):
    """The 4096-byte file header (version 3.1) with a valid CRC."""
    h = bytearray(HEADER)
    h[0:8] = b"ElfFile\x00"
    struct.pack_into("<QQQIHHHH", h, 8, 0, max(chunk_count - 1, 0), next_record_id, 128, 1, 3,
                     HEADER, chunk_count & 0xFFFF)
    struct.pack_into("<I", h, 120, flags)
    struct.pack_into("<I", h, 124, crc32(bytes(h[:120])))
    return bytes(h)


def evtx_file(chunks, next_record_id=1):
    return file_header(len(chunks), next_record_id) + b"".join(chunks)


def utf16(text):
    return text.encode("utf-16-le")


class Chunk:
    """One 64 KiB chunk. Records are appended from offset 512; other
    structures (templates, names) may be placed anywhere with put(), which
    callers keep out of the records area."""

    def __init__(self):
        self.data = bytearray(CHUNK)
        self.records_end = CHUNK_HEADER
        self.first_id = None
        self.last_id = 0
        self.last_record = CHUNK_HEADER

    # --- BinXml pieces; `at` is the chunk offset the piece will start at ---

    @staticmethod
    def name_struct(text):
        """u32 next | u16 hash | u16 chars | UTF-16 | u16 NUL."""
        return struct.pack("<IHH", 0, 0, len(text)) + utf16(text) + b"\x00\x00"

    def open_element(self, at, name):
        """Element start with the dependency id and an inline name."""
        token = struct.pack("<BHI", 0x01, 0xFFFF, 0)  # size unused by the decoder
        name_off = at + len(token) + 4
        return token + struct.pack("<I", name_off) + self.name_struct(name)

    def element(self, at, name, content=b"", content_at=None):
        """<name>content</name>; `content` is built for offset `content_at`,
        which the caller gets from element_content_offset()."""
        start = self.open_element(at, name)
        return start + b"\x02" + content + b"\x04"

    def element_content_offset(self, at, name):
        return at + len(self.open_element(at, name)) + 1

    @staticmethod
    def text(value):
        return struct.pack("<BBH", 0x05, 0x01, len(value)) + utf16(value)

    @staticmethod
    def entity_ref(name_offset):
        return struct.pack("<BI", 0x09, name_offset)

    @staticmethod
    def instance(template_id, def_offset, values=()):
        """Template instance whose definition is elsewhere, with string values."""
        out = struct.pack("<BBII", 0x0C, 0x01, template_id, def_offset)
        out += struct.pack("<I", len(values))
        data = b""
        for v in values:
            b = utf16(v)
            out += struct.pack("<HBB", len(b), 0x01, 0)
            data += b
        return out + data

    @staticmethod
    def template_def(template_id, body):
        """u32 next | GUID (starting with the id) | u32 size | body."""
        guid = struct.pack("<I", template_id) + bytes(12)
        return struct.pack("<I", 0) + guid + struct.pack("<I", len(body)) + body

    def tree(self, at, node):
        """BinXml for `node` starting at chunk offset `at`. A node is
        (name, {attribute: value}, [children]); a child is a node, a str
        (text) or bytes (raw BinXml, e.g. template instances)."""
        name, attrs, children = node
        out = bytearray(struct.pack("<BHI", 0x41 if attrs else 0x01, 0xFFFF, 0))
        out += struct.pack("<I", at + len(out) + 4) + self.name_struct(name)
        if attrs:
            out += struct.pack("<I", 0)  # attribute list size (unused)
            for key, value in attrs.items():
                out += struct.pack("<BI", 0x06, at + len(out) + 5) + self.name_struct(key)
                out += self.text(value)
        if not children:
            return bytes(out) + b"\x03"
        out += b"\x02"
        for child in children:
            if isinstance(child, tuple):
                out += self.tree(at + len(out), child)
            elif isinstance(child, str):
                out += self.text(child)
            else:
                out += child
        return bytes(out) + b"\x04"

    def plain_event(self, at, event_id):
        """<Event><System><EventID>id</EventID></System></Event> as plain
        BinXml (no template) for a record body starting at `at`."""
        frag = b"\x0f\x01\x01\x00"
        ev_at = at + len(frag)
        sys_at = self.element_content_offset(ev_at, "Event")
        id_at = self.element_content_offset(sys_at, "System")
        eid = self.element(id_at, "EventID", self.text(str(event_id)))
        system = self.element(sys_at, "System", eid)
        return frag + self.element(ev_at, "Event", system) + b"\x00"

    # --- placement ---

    def put(self, offset, data):
        assert offset + len(data) <= CHUNK, "structure runs past the chunk"
        self.data[offset:offset + len(data)] = data

    def next_body_offset(self):
        return self.records_end + RECORD_HEADER

    def record(self, record_id, body):
        """Appends a record whose BinXml body was built for next_body_offset()."""
        size = RECORD_HEADER + len(body) + 4
        at = self.records_end
        assert at + size <= CHUNK, "record runs past the chunk"
        rec = struct.pack("<IIQQ", 0x00002A2A, size, record_id, 132000000000000000) + body
        rec += struct.pack("<I", size)
        self.put(at, rec)
        self.records_end += size
        self.last_record = at
        if self.first_id is None:
            self.first_id = record_id
        self.last_id = record_id

    def image(self):
        d = self.data
        d[0:8] = b"ElfChnk\x00"
        first = self.first_id or 0
        struct.pack_into("<QQQQIII", d, 8, first, self.last_id, first, self.last_id, 128,
                         self.last_record, self.records_end)
        struct.pack_into("<I", d, 52, crc32(bytes(d[CHUNK_HEADER:self.records_end])))
        struct.pack_into("<I", d, 120, 0)
        struct.pack_into("<I", d, 124, crc32(bytes(d[:120]) + bytes(d[128:CHUNK_HEADER])))
        return bytes(d)


def template_bomb(levels, name_chars, fan=16, refs=64, name_char="A"):
    """One chunk: record 1 is a template expansion bomb, record 2 a plain
    <Event> with EventID 7. The bottom template holds `refs` entity references
    to one name of `name_chars` characters; each template above it holds `fan`
    instances of the one below, and the top one (under
    <Event><EventData><Data>) `fan` instances of level `levels - 1`. The record
    renders fan**levels * refs references."""
    c = Chunk()
    p = 4096  # structures go after the two small records
    name_at = p
    c.put(name_at, c.name_struct(name_char * name_chars))
    p += len(c.name_struct(name_char * name_chars))
    defs = []  # (template id, definition offset)
    body = b"".join(c.entity_ref(name_at) for _ in range(refs))
    for level in range(levels):
        tid = 0x1000 + level
        d = c.template_def(tid, body)
        c.put(p, d)
        defs.append((tid, p))
        p += len(d)
        below_id, below_at = defs[-1]
        body = b"".join(c.instance(below_id, below_at) for _ in range(fan))
    # The top template: a System that rules want the payload of (the EEMS
    # rule's provider and event), then <EventData><Data> with `fan`
    # instances of level `levels - 1`.
    top_at = p
    below_id, below_at = defs[-1]
    inner = b"".join(c.instance(below_id, below_at) for _ in range(fan))
    system = ("System", {}, [("Provider", {"Name": "MSExchange Mitigation Service"}, []),
                             ("EventID", {}, ["1008"]), ("Level", {}, ["2"]),
                             ("Channel", {}, ["Application"]), ("Computer", {}, ["ex1.corp"])])
    top_body = c.tree(top_at + 24, ("Event", {}, [system, ("EventData", {}, [("Data", {}, [inner])])]))
    c.put(top_at, c.template_def(0x2000, top_body))
    frag = b"\x0f\x01\x01\x00" + c.instance(0x2000, top_at) + b"\x00"
    c.record(1, frag)
    c.record(2, c.plain_event(c.next_body_offset(), 7))
    assert c.records_end <= 4096
    return evtx_file([c.image()], next_record_id=3)


def big_template_chunk(index, tokens=60000, name_chars=0):
    """A chunk whose one record instantiates its own template (a GUID of its
    own) of `tokens` one-byte tokens, or with `name_chars`, of `tokens`
    entity references to one name that long: the cross-chunk cache sees a new
    large template in every chunk."""
    c = Chunk()
    tid = 0x10000 + index
    def_at = 1024
    body_at = def_at + 24
    if name_chars:
        name_at = CHUNK - len(c.name_struct("n" * name_chars))
        c.put(name_at, c.name_struct("n" * name_chars))
        inner = b"".join(c.entity_ref(name_at) for _ in range(tokens))
    else:
        inner = b"\x02" * tokens
    body = c.open_element(body_at, "Event") + b"\x02" + inner + b"\x04"
    d = struct.pack("<I", 0) + struct.pack("<II", tid, index) + bytes(8) + \
        struct.pack("<I", len(body)) + body
    c.put(def_at, d)
    frag = b"\x0f\x01\x01\x00" + c.instance(tid, def_at) + b"\x00"
    c.record(index + 1, frag)
    assert c.records_end <= def_at
    return c.image()
