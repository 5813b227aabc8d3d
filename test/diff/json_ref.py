#!/usr/bin/python3
"""json_ref.py -- reference side of the JSON differential test.

    /usr/bin/python3 test/diff/json_ref.py FILE...

Each file is decoded as strict UTF-8 (RFC 8259 s8.1; a failure is a
rejection) and parsed with json.loads, set up as close to RFC 8259 as the
module goes:

  strict=True             raw control characters in strings are errors
  parse_constant=<raise>  NaN, Infinity and -Infinity are errors (Python
                          accepts them by default; RFC 8259 s6 has no such
                          literals)
  parse_int/parse_float   keep the digits as text: no int digit limit
                          (ValueError past 4300 digits) and no float
                          overflow to inf, since RFC 8259 puts no limit on
                          a number's length in the grammar
  object_pairs_hook       keeps every member, duplicated keys included

One line per file, in test/diff/json_driver.c's format plus a NOTES column
(a JSON list): what the document has that RFC 8259 allows but leaves to the
implementation, where our tokenizer made the stricter choice on purpose
(proto/json.h, docs/differential.md):

  lone_surrogate  a string (key or value) whose \\u escapes leave a
                  surrogate unpaired (RFC 8259 s8.2: "unpredictable");
                  Python keeps it, we refuse it (JSON_ERR_SURROGATE)
  depth           arrays/objects nested deeper than 64 (RFC 8259 s9 lets
                  a parser limit nesting); we refuse (JSON_ERR_DEPTH)
"""
import json
import sys

MAX_DEPTH = 64


class Obj(list):
    """An object's members, in order, duplicates kept."""


def refuse_constant(name):
    raise ValueError("non-RFC 8259 literal %s" % name)


def notes_for(value):
    notes = set()
    stack = [(value, 0)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, Obj):
            d += 1
            for k, x in v:
                if any(0xD800 <= ord(c) <= 0xDFFF for c in k):
                    notes.add("lone_surrogate")
                stack.append((x, d))
        elif isinstance(v, list):
            d += 1
            stack.extend((x, d) for x in v)
        elif isinstance(v, str) and not getattr(v, "is_number", False):
            if any(0xD800 <= ord(c) <= 0xDFFF for c in v):
                notes.add("lone_surrogate")
        if d > MAX_DEPTH:
            notes.add("depth")
    return sorted(notes)


class Num(str):
    is_number = True


def reference(data):
    try:
        text = data.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        return "reject:utf8 (%s)" % e.reason, []
    try:
        value = json.loads(text, strict=True, parse_constant=refuse_constant,
                           parse_int=Num, parse_float=Num, object_pairs_hook=Obj)
    except RecursionError:
        return "reject:recursion", []
    except ValueError as e:  # JSONDecodeError is a ValueError
        return "reject:%s" % str(e).replace("\t", " ").replace("\n", " "), []
    return "accept", notes_for(value)


def main():
    sys.setrecursionlimit(2000)
    for path in sys.argv[1:]:
        with open(path, "rb") as f:
            data = f.read()
        verdict, notes = reference(data)
        sys.stdout.write("%s\t%s\t-\t%s\n" % (path, verdict, json.dumps(notes)))


if __name__ == "__main__":
    main()
