"""Patterns in the service models are Java regular expressions, matched against the whole value.

Source: the model `pattern` trait is a Java `java.util.regex.Pattern` (Smithy spec, "pattern trait": "ECMA 262"
dialect in Smithy 2, but the botocore models still carry the Coral/Java spellings). Two Java spellings need
translating for Python's `regex` module:
- a supplementary character written as a UTF-16 surrogate pair (`\\uD800\\uDC00-\\uDBFF\\uDFFF` is U+10000..U+10FFFF;
  java.util.regex.Pattern docs, "Unicode support": surrogate pairs denote one supplementary code point);
- `\\p{javaLetter}`-style and POSIX `\\p{Alnum}` classes, which `regex` understands as-is (`\\p{Alnum}` etc.).
Java's `Matcher.matches()` (what Coral uses to validate a member) matches the entire value: `fullmatch` here.
"""

import functools
import re

import regex

_SURROGATE_PAIR = re.compile(r"\\u(D[89AB][0-9A-Fa-f]{2})\\u(D[C-Fa-f][0-9A-Fa-f]{2})")


def _code_point(match: re.Match) -> str:
    high, low = int(match.group(1), 16), int(match.group(2), 16)
    return f"\\U{0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00):08X}"


def to_python(pattern: str) -> str:
    return _SURROGATE_PAIR.sub(_code_point, pattern)


@functools.lru_cache(maxsize=None)
def compiled(pattern: str):
    return regex.compile(to_python(pattern))


def matches(pattern: str, value: str) -> bool:
    return compiled(pattern).fullmatch(value) is not None
