#!/usr/bin/python3
"""dns_ref.py -- reference side of the DNS differential test.

    /usr/bin/python3 test/diff/dns_ref.py FILE...

Each file is one DNS response to the query of test/diff/dns_driver.c (ID
0x1234, SRV _dmqtt._tcp.service.veeamesh.local IN, RD).  It is parsed with
dnslib's DNSRecord.parse; then the checks dns_response_check() promises
(same ID, QR set, opcode QUERY, exactly one question equal to the query's,
name compared without ASCII case) are applied to what dnslib returned.  One
line per file, in the driver's format plus a fourth column:

    PATH <TAB> VERDICT <TAB> SUMMARY <TAB> NOTES

VERDICT: "accept" or "reject:<reason>" (dnslib's exception, or which
check failed).  NOTES is a JSON list of "TAG@WHERE" facts found by a small
walker written here from RFC 1035 (WHERE: "q" or the 0-based record index),
used by the comparison to explain documented differences
(docs/differential.md):

  stops at the first record breaking a rule dnslib does not enforce:
    ptr_header     a compression pointer into the 12-octet header
    ptr_not_prior  a pointer not to an earlier name (RFC 1035 4.1.4
                   "prior occurrence"): at or after the run of labels it
                   ends, so it loops or lands inside a label
    ptr_many       more than 127 pointers in one name
    label_type     a label length octet 0x40..0xbf (RFC 1035 4.1.4 reserves
                   01/10; RFC 6891 deprecates extended labels)
    name_long      a name over 255 octets (RFC 1035 2.3.4)
    short          a name, record header or RDATA past the end of the message
    rdata_shape    A RDLENGTH != 4, AAAA != 16, SRV < 7 or its target not
                   ending at RDATA's end, CNAME not exactly one name
  and, for records before that one (differences the other way):
    label_not_utf8 a label that is not UTF-8 (legal DNS; dnslib refuses it)
    opaque_bad     RDATA of a type our walker does not interpret (not A,
                   AAAA, SRV, CNAME) that dnslib's parser for that type
                   refuses or does not consume exactly
"""
import json
import sys

from dnslib import DNSRecord, QTYPE, RDMAP, RD
from dnslib.label import DNSBuffer
from dnslib.buffer import Buffer

QNAME = [b"_dmqtt", b"_tcp", b"service", b"veeamesh", b"local"]
QID = 0x1234
T_A, T_CNAME, T_AAAA, T_SRV, T_OPT = 1, 5, 28, 33, 41


def name_text(labels):
    """Dotted text as dns.h gives it, "?" when a label is not printable."""
    if len(labels) == 0:
        return "."
    for lab in labels:
        if any(c <= 0x20 or c >= 0x7F or c == 0x2E for c in lab):
            return "?"
    return ".".join(lab.decode("ascii") for lab in labels)


def rr_text(sec, rr):
    s = "%s/%d/%d" % (sec, rr.rtype, rr.rclass)
    if rr.rclass != 1 or rr.rtype not in (T_A, T_AAAA, T_SRV, T_CNAME):
        return s
    ttl = rr.ttl if rr.ttl < 0x80000000 else 0  # RFC 2181 s8
    s += "/%d/%s" % (ttl, name_text(rr.rname.label))
    rd = rr.rdata
    if isinstance(rd, str):  # dnslib: RDLENGTH 0 gives ''
        return s + "/!empty"
    if rr.rtype == T_A:
        return s + "/" + ".".join(str(x) for x in rd.data)
    if rr.rtype == T_AAAA:
        return s + "/" + bytes(rd.data).hex()
    if rr.rtype == T_SRV:
        return s + "/%d/%d/%d/%s" % (rd.priority, rd.weight, rd.port,
                                      name_text(rd.target.label))
    return s + "/" + name_text(rd.label.label)


def reference(data):
    try:
        rec = DNSRecord.parse(data)
    except Exception as e:  # DNSError, and anything else it lets out
        return "reject:%s: %s" % (type(e).__name__, str(e).replace("\t", " ").replace("\n", " ")), "-"
    h = rec.header
    if h.id != QID:
        return "reject:id", "-"
    if h.qr != 1 or h.opcode != 0:
        return "reject:header", "-"
    if h.q != 1:
        return "reject:question count", "-"
    q = rec.questions[0]
    if ([lab.lower() for lab in q.qname.label] != QNAME or q.qtype != T_SRV
            or q.qclass != 1):
        return "reject:question differs", "-"
    parts = ["rcode=%d,tc=%d,aa=%d,ra=%d,an=%d,ns=%d,ar=%d" % (
        h.rcode, h.tc, h.aa, h.ra, h.a, h.auth, h.ar)]
    for sec, rrs in (("an", rec.rr), ("ns", rec.auth), ("ar", rec.ar)):
        parts.extend(rr_text(sec, rr) for rr in rrs)
    return "accept", " ".join(parts)


# ------------------------------------------------------------ RFC walker

class Stop(Exception):
    pass


def walk_name(msg, off, end, facts, where, in_rdata=False):
    """Expand the name at msg[off] reading nothing at or past end; returns
    the offset after its in-place part.  Raises Stop(tag) on a rule break."""
    p = seg = off
    wl = 0
    jumps = 0
    after = None
    while True:
        if p >= end:
            raise Stop("rdata_shape" if in_rdata else "short")
        c = msg[p]
        if c >= 0xC0:
            if end - p < 2:
                raise Stop("rdata_shape" if in_rdata else "short")
            t = (c & 0x3F) << 8 | msg[p + 1]
            if t < 12:
                raise Stop("ptr_header")
            if t >= seg:
                raise Stop("ptr_not_prior")
            jumps += 1
            if jumps > 127:
                raise Stop("ptr_many")
            if after is None:
                after = p + 2
            p = seg = t
            continue
        if c > 63:
            raise Stop("label_type")
        if wl + c + (2 if c else 1) > 255:
            raise Stop("name_long")
        if c >= end - p:
            raise Stop("rdata_shape" if in_rdata else "short")
        if c == 0:
            return after if after is not None else p + 1
        try:
            bytes(msg[p + 1:p + 1 + c]).decode("utf-8")
        except UnicodeDecodeError:
            facts.append("label_not_utf8@%s" % where)
        wl += c + 1
        p += c + 1


def opaque_ok(msg, rtype, rd, rdlen):
    """dnslib's own RDATA parser for a type we do not interpret: does it
    take exactly RDLENGTH octets without an error?"""
    if rdlen == 0:
        return True  # dnslib does not call a parser then
    try:
        if rtype == T_OPT:
            ob = Buffer(bytes(msg[rd:rd + rdlen]))
            while ob.remaining() > 4:
                _, length = ob.unpack("!HH")
                ob.get(length)
            return True
        buf = DNSBuffer(bytes(msg))
        buf.offset = rd
        RDMAP.get(QTYPE.get(rtype), RD).parse(buf, rdlen)
        return buf.offset == rd + rdlen
    except Exception:
        return False


def walk(msg):
    facts = []
    n = len(msg)
    if n < 12 or (msg[4] << 8 | msg[5]) != 1:
        return facts  # the header check decides; nothing to explain here
    where = "q"
    try:
        p = walk_name(msg, 12, n, facts, where)
        if n - p < 4:
            raise Stop("short")
        p += 4
        total = (msg[6] << 8 | msg[7]) + (msg[8] << 8 | msg[9]) + (msg[10] << 8 | msg[11])
        for i in range(total):
            where = str(i)
            p = walk_name(msg, p, n, facts, where)
            if n - p < 10:
                raise Stop("short")
            rtype = msg[p] << 8 | msg[p + 1]
            rdlen = msg[p + 8] << 8 | msg[p + 9]
            rd = p + 10
            if rdlen > n - rd:
                raise Stop("short")
            end = rd + rdlen
            if rtype == T_A and rdlen != 4 or rtype == T_AAAA and rdlen != 16:
                raise Stop("rdata_shape")
            if rtype == T_SRV:
                if rdlen < 7:
                    raise Stop("rdata_shape")
                if walk_name(msg, rd + 6, end, facts, where, True) != end:
                    raise Stop("rdata_shape")
            elif rtype == T_CNAME:
                if walk_name(msg, rd, end, facts, where, True) != end:
                    raise Stop("rdata_shape")
            elif rtype not in (T_A, T_AAAA) and not opaque_ok(msg, rtype, rd, rdlen):
                facts.append("opaque_bad@%s" % where)
            p = end
    except Stop as s:
        facts.append("%s@%s" % (s.args[0], where))
    return facts


def main():
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        verdict, summary = reference(data)
        sys.stdout.write("%s\t%s\t%s\t%s\n" % (path, verdict, summary, json.dumps(walk(data))))


if __name__ == "__main__":
    main()
