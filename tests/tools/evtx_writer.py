#!/usr/bin/env python3
"""A small EVTX writer for tests: makes real Windows XML Event Log files.

It writes what the event log service writes (docs/evtx-format.md, from
libyal's format notes and MS-EVEN6): a 4096-byte file header, 64 KiB chunks
with their string and template tables, records whose BinXml is a template
instance (the definition inline in the first record of a chunk that uses it,
referred back to by offset afterwards), value arrays with typed
substitutions, nested BinXml values, and the file header, chunk header and
records CRC32s. Names are written inline at their first use in a chunk and
referred back to after that, as Windows does.

Only the standard library is used. The module is the test side's own
writer: its output is read back by evtx_dump and libevtx's evtxexport in
tests/e2e/evtx_writer_test.py, so a reader that agrees with both is checked
against an independent producer.

    from evtx_writer import EvtxWriter, Element, Sub, classic_event_template
    w = EvtxWriter()
    w.add_record(template, values, record_id=1, written=filetime)
    open("x.evtx", "wb").write(w.to_bytes())
"""

import datetime as _dt
import struct
import uuid
import zlib

FILE_HEADER_SIZE = 4096
CHUNK_SIZE = 65536
CHUNK_HEADER_SIZE = 512

# BinXml value types (MS-EVEN6 2.2.12 / docs/evtx-format.md "Values").
NULL, STRING, ANSI, INT8, UINT8, INT16, UINT16, INT32, UINT32, INT64, UINT64 = range(11)
REAL32, REAL64, BOOL, BINARY, GUID, SIZET, FILETIME, SYSTIME, SID = range(0x0B, 0x14)
HEXINT32, HEXINT64, BINXML = 0x14, 0x15, 0x21
ARRAY = 0x80
STRING_ARRAY = STRING | ARRAY

_EPOCH_1601 = _dt.datetime(1601, 1, 1, tzinfo=_dt.timezone.utc)


def filetime(t):
    """A timezone-aware datetime -> FILETIME (100 ns ticks since 1601)."""
    d = t - _EPOCH_1601
    return (d.days * 86400 + d.seconds) * 10_000_000 + d.microseconds * 10


def crc32(data):
    return zlib.crc32(data) & 0xFFFFFFFF


def name_hash(name):
    """The 16-bit hash stored with each name: h = h * 65599 + code unit."""
    h = 0
    for (unit,) in struct.iter_unpack("<H", name.encode("utf-16-le")):
        h = (h * 65599 + unit) & 0xFFFFFFFF
    return h & 0xFFFF


# ---------------------------------------------------------------------------
# Templates: a tree of elements whose attributes and content are literal text
# or substitutions of the instance's values.
# ---------------------------------------------------------------------------


class Sub:
    """A substitution of value `index`, declared as `vtype`. Optional (0x0E)
    by default, as the event log service writes them: a NULL value then
    renders nothing."""

    def __init__(self, index, vtype, optional=True):
        self.index, self.vtype, self.optional = index, vtype, optional


class Element:
    """<name attrs...>children</name>. `attrs` is a list of (name, part) and
    `children` a list of Element, Sub or str. `depends_on` is the element's
    DependencyId: the value index whose NULL leaves the element out, or None."""

    def __init__(self, name, attrs=(), children=(), depends_on=None):
        self.name = name
        self.attrs = list(attrs)
        self.children = list(children)
        self.depends_on = depends_on


class Template:
    """A template definition: a root element and a GUID (its first four bytes
    are the template id the instance names)."""

    def __init__(self, root, guid=None):
        self.root = root
        self.guid = guid or uuid.uuid4()


# ---------------------------------------------------------------------------
# Values: (type, python value) pairs, encoded to their stored bytes.
# ---------------------------------------------------------------------------


class Instance:
    """A nested template instance, the payload of a BINXML (0x21) value."""

    def __init__(self, template, values):
        self.template, self.values = template, values


def _sid_bytes(text):
    parts = text.split("-")
    assert parts[0] == "S"
    rev, auth, subs = int(parts[1]), int(parts[2]), [int(p) for p in parts[3:]]
    return struct.pack("<BB", rev, len(subs)) + auth.to_bytes(6, "big") + \
        b"".join(struct.pack("<I", s) for s in subs)


def encode_value(vtype, value):
    """Bytes of a value that is not a nested instance."""
    if vtype == NULL or value is None:
        return b""
    if vtype == STRING:
        return value.encode("utf-16-le")
    if vtype == STRING_ARRAY:
        return b"".join(s.encode("utf-16-le") + b"\0\0" for s in value)
    fmt = {INT8: "<b", UINT8: "<B", INT16: "<h", UINT16: "<H", INT32: "<i", UINT32: "<I",
           INT64: "<q", UINT64: "<Q", REAL32: "<f", REAL64: "<d", BOOL: "<I", SIZET: "<Q",
           FILETIME: "<Q", HEXINT32: "<I", HEXINT64: "<Q"}.get(vtype)
    if fmt:
        return struct.pack(fmt, value)
    if vtype == BINARY:
        return bytes(value)
    if vtype == GUID:
        return uuid.UUID(str(value).strip("{}")).bytes_le
    if vtype == SID:
        return _sid_bytes(value)
    raise ValueError("value type 0x%x not supported by the test writer" % vtype)


# ---------------------------------------------------------------------------
# Chunk assembly
# ---------------------------------------------------------------------------


class _Chunk:
    """One chunk being filled. Offsets are chunk-relative, as in the format."""

    def __init__(self):
        self.data = bytearray(CHUNK_HEADER_SIZE)
        self.names = {}        # name -> offset of its name structure
        self.templates = {}    # guid -> offset of its definition
        self.name_order = []   # (hash, offset) in the order written
        self.template_order = []
        self.records = []      # (offset, record id)

    # Everything below appends to `out` (a bytearray that will land at chunk
    # offset `base`), so offsets of inline names and definitions are known.

    def _name(self, out, base, name):
        here = base + len(out)
        if name in self.names:
            out += struct.pack("<I", self.names[name])
            return
        offset = here + 4
        out += struct.pack("<I", offset)
        units = name.encode("utf-16-le")
        out += struct.pack("<IHH", 0, name_hash(name), len(units) // 2) + units + b"\0\0"
        self.names[name] = offset
        self.name_order.append((name_hash(name), offset))

    def _part(self, out, base, part):
        if isinstance(part, Sub):
            out += struct.pack("<BHB", 0x0E if part.optional else 0x0D, part.index, part.vtype)
        else:
            units = part.encode("utf-16-le")
            out += struct.pack("<BBH", 0x05, STRING, len(units) // 2) + units

    def _element(self, out, base, el):
        out.append(0x41 if el.attrs else 0x01)
        out += struct.pack("<H", 0xFFFF if el.depends_on is None else el.depends_on)
        size_at = len(out)
        out += b"\0\0\0\0"
        self._name(out, base, el.name)
        if el.attrs:
            list_at = len(out)
            out += b"\0\0\0\0"
            for i, (aname, part) in enumerate(el.attrs):
                out.append(0x46 if i + 1 < len(el.attrs) else 0x06)
                self._name(out, base, aname)
                self._part(out, base, part)
            struct.pack_into("<I", out, list_at, len(out) - list_at - 4)
        if not el.children:
            out.append(0x03)  # close empty tag
        else:
            out.append(0x02)
            for child in el.children:
                if isinstance(child, Element):
                    self._element(out, base, child)
                else:
                    self._part(out, base, child)
            out.append(0x04)
        struct.pack_into("<I", out, size_at, len(out) - size_at - 4)

    def _instance(self, out, base, template, values):
        tid = struct.unpack_from("<I", template.guid.bytes_le)[0]
        out += struct.pack("<BB", 0x0C, 0x01)
        out += struct.pack("<I", tid)
        here = base + len(out) + 4
        known = self.templates.get(template.guid)
        out += struct.pack("<I", known if known is not None else here)
        if known is None:
            self.templates[template.guid] = here
            self.template_order.append((tid, here))
            out += struct.pack("<I", 0) + template.guid.bytes_le
            size_at = len(out)
            out += b"\0\0\0\0"
            body = len(out)
            out += bytes([0x0F, 0x01, 0x01, 0x00])
            self._element(out, base, template.root)
            out.append(0x00)  # EOF
            struct.pack_into("<I", out, size_at, len(out) - body)
        out += struct.pack("<I", len(values))
        desc_at = len(out)
        out += b"\0" * (4 * len(values))
        for i, (vtype, value) in enumerate(values):
            begin = len(out)
            if vtype == BINXML and value is not None:
                self._instance(out, base, value.template, value.values)
            else:
                out += encode_value(vtype, value)
            size = len(out) - begin
            stored = NULL if value is None else vtype
            struct.pack_into("<HBB", out, desc_at + 4 * i, size, stored, 0)

    def try_add(self, template, values, record_id, written):
        """Appends a record if it fits; False (and nothing changed) if not."""
        saved = (dict(self.names), dict(self.templates), list(self.name_order),
                 list(self.template_order))
        base = len(self.data)
        rec = bytearray()
        rec += struct.pack("<IIQQ", 0x00002A2A, 0, record_id, written)
        rec += bytes([0x0F, 0x01, 0x01, 0x00])
        self._instance(rec, base, template, values)
        rec.append(0x00)  # EOF
        while (len(rec) + 4) % 8:
            rec.append(0)
        rec += b"\0\0\0\0"
        struct.pack_into("<I", rec, 4, len(rec))
        struct.pack_into("<I", rec, len(rec) - 4, len(rec))
        # A record that would end exactly at the chunk's end starts the next
        # chunk: libevtx 20181227 drops such a last record.
        if base + len(rec) >= CHUNK_SIZE:
            self.names, self.templates, self.name_order, self.template_order = saved
            return False
        self.records.append((base, record_id))
        self.data += rec
        return True

    def finish(self, number_base=1):
        """The chunk's 64 KiB with tables, header fields and CRCs filled."""
        data = bytearray(self.data)
        free = len(data)
        data += b"\0" * (CHUNK_SIZE - len(data))
        # String table: 64 buckets by hash, chained through each name's
        # `next` field; template table: 32 buckets by template id.
        for table_at, buckets, order, next_delta in ((128, 64, self.name_order, 0),
                                                      (384, 32, self.template_order, 0)):
            last = {}
            for key, offset in order:
                b = key % buckets
                if b in last:
                    struct.pack_into("<I", data, last[b] + next_delta, offset)
                else:
                    struct.pack_into("<I", data, table_at + 4 * b, offset)
                last[b] = offset
        first_id = self.records[0][1]
        last_id = self.records[-1][1]
        struct.pack_into("<8sQQQQIII", data, 0, b"ElfChnk\0", first_id, last_id, first_id,
                         last_id, 128, self.records[-1][0], free)
        struct.pack_into("<I", data, 52, crc32(bytes(data[CHUNK_HEADER_SIZE:free])))
        struct.pack_into("<I", data, 120, 0)
        struct.pack_into("<I", data, 124, crc32(bytes(data[:120]) + bytes(data[128:512])))
        return bytes(data)


class EvtxWriter:
    """Collects records into chunks and writes the file."""

    def __init__(self):
        self.chunks = [_Chunk()]
        self.next_id = 1

    def add_record(self, template, values, record_id=None, written=0):
        """`values`: list of (type, value); a BINXML value is an Instance;
        None as value is NULL. Returns the record id."""
        rid = self.next_id if record_id is None else record_id
        if not self.chunks[-1].try_add(template, values, rid, written):
            self.chunks.append(_Chunk())
            if not self.chunks[-1].try_add(template, values, rid, written):
                raise ValueError("record %d does not fit in a chunk" % rid)
        self.next_id = rid + 1
        return rid

    def to_bytes(self):
        chunks = [c.finish() for c in self.chunks if c.records]
        header = bytearray(FILE_HEADER_SIZE)
        struct.pack_into("<8sQQQIHHHH", header, 0, b"ElfFile\0", 0, max(0, len(chunks) - 1),
                         self.next_id, 128, 1, 3, FILE_HEADER_SIZE, len(chunks))
        struct.pack_into("<I", header, 120, 0)  # flags: clean, not full
        struct.pack_into("<I", header, 124, crc32(bytes(header[:120])))
        return bytes(header) + b"".join(chunks)


# ---------------------------------------------------------------------------
# The classic event-log layout (an application that calls ReportEvent, such
# as Exchange's services): System from substitutions, provider, channel and
# computer as literal text of the template, and EventData as a nested BinXml
# value holding <Data> per insertion string (a string array) and <Binary>.
# This is the layout of the Application logs in the shared corpus
# (Application_no_crc32.evtx).
# ---------------------------------------------------------------------------

_NS = "http://schemas.microsoft.com/win/2004/08/events/event"


def classic_event_template(provider, channel, computer):
    s = Sub
    system = Element("System", children=[
        Element("Provider", attrs=[("Name", provider)]),
        Element("EventID", attrs=[("Qualifiers", s(4, UINT16))], children=[s(3, UINT16)], depends_on=3),
        Element("Version", children=[s(11, UINT8)], depends_on=11),
        Element("Level", children=[s(0, UINT8)], depends_on=0),
        Element("Task", children=[s(2, UINT16)], depends_on=2),
        Element("Opcode", children=[s(1, UINT8)], depends_on=1),
        Element("Keywords", children=[s(5, HEXINT64)], depends_on=5),
        Element("TimeCreated", attrs=[("SystemTime", s(6, FILETIME))]),
        Element("EventRecordID", children=[s(10, UINT64)], depends_on=10),
        Element("Correlation", attrs=[("ActivityID", s(7, GUID)), ("RelatedActivityID", s(18, GUID))]),
        Element("Execution", attrs=[("ProcessID", s(8, UINT32)), ("ThreadID", s(9, UINT32))]),
        Element("Channel", children=[channel]),
        Element("Computer", children=[computer]),
        Element("Security", attrs=[("UserID", s(12, SID))]),
    ])
    root = Element("Event", attrs=[("xmlns", _NS)], children=[system, s(19, BINXML)], depends_on=19)
    return Template(root)


CLASSIC_EVENT_DATA = Template(Element("EventData", children=[
    Element("Data", children=[Sub(0, STRING_ARRAY)], depends_on=0),
    Element("Binary", children=[Sub(2, BINARY)], depends_on=2),
]))


def _system_values(count, event_id, qualifiers, level, task, keywords, time, record_id, pid, tid,
                   user_sid):
    """`count` values, NULL but for the System ones both layouts share:
    0 level, 1 opcode, 2 task, 3 event id, 4 qualifiers, 5 keywords, 6 time,
    8/9 process/thread, 10 record id, 11 version, 12 user SID."""
    v = [(NULL, None)] * count
    v[0] = (UINT8, level)
    v[1] = (UINT8, 0)
    v[2] = (UINT16, task)
    v[3] = (UINT16, event_id)
    if qualifiers is not None:
        v[4] = (UINT16, qualifiers)
    v[5] = (HEXINT64, keywords)
    v[6] = (FILETIME, filetime(time))
    v[8] = (UINT32, pid)
    v[9] = (UINT32, tid)
    v[10] = (UINT64, record_id)
    v[11] = (UINT8, 0)
    if user_sid:
        v[12] = (SID, user_sid)
    return v


def classic_values(event_id, qualifiers, level, task, keywords, time, record_id, pid, tid,
                   strings, binary=None, user_sid=None):
    """The 20 values of classic_event_template's instance."""
    data = Instance(CLASSIC_EVENT_DATA, [(STRING_ARRAY, list(strings)) if strings else (NULL, None),
                                         (UINT32, len(strings)),
                                         (BINARY, binary) if binary else (NULL, None)])
    v = _system_values(20, event_id, qualifiers, level, task, keywords, time, record_id, pid, tid,
                       user_sid)
    v[19] = (BINXML, data)
    return v


def manifest_event_template(provider, guid, channel, computer, names):
    """A manifest provider's layout (Security, Sysmon): the provider GUID (if
    any) in System and EventData as <Data Name="..."> per field, values 20
    onwards."""
    s = Sub
    system = Element("System", children=[
        Element("Provider", attrs=[("Name", provider)] + ([("Guid", guid)] if guid else [])),
        Element("EventID", attrs=[("Qualifiers", s(4, UINT16))], children=[s(3, UINT16)]),
        Element("Version", children=[s(11, UINT8)]),
        Element("Level", children=[s(0, UINT8)]),
        Element("Task", children=[s(2, UINT16)]),
        Element("Opcode", children=[s(1, UINT8)]),
        Element("Keywords", children=[s(5, HEXINT64)]),
        Element("TimeCreated", attrs=[("SystemTime", s(6, FILETIME))]),
        Element("EventRecordID", children=[s(10, UINT64)]),
        Element("Correlation", attrs=[("ActivityID", s(7, GUID)), ("RelatedActivityID", s(18, GUID))]),
        Element("Execution", attrs=[("ProcessID", s(8, UINT32)), ("ThreadID", s(9, UINT32))]),
        Element("Channel", children=[channel]),
        Element("Computer", children=[computer]),
        Element("Security", attrs=[("UserID", s(12, SID))]),
    ])
    data = Element("EventData", children=[
        Element("Data", attrs=[("Name", n)], children=[s(20 + i, STRING)]) for i, n in enumerate(names)])
    return Template(Element("Event", attrs=[("xmlns", _NS)], children=[system, data]))


def manifest_values(event_id, level, task, keywords, time, record_id, pid, tid, values,
                    user_sid=None, qualifiers=None):
    """The values of manifest_event_template's instance: System's, then one
    string per named field."""
    v = _system_values(20 + len(values), event_id, qualifiers, level, task, keywords, time,
                       record_id, pid, tid, user_sid)
    for i, value in enumerate(values):
        v[20 + i] = (STRING, value)
    return v
