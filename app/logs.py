"""The access log without identifying values (issue 17, finding 12).

uvicorn logs each request's path with its query string: a FHIR search by NHS number
(`/fhir/r4/Patient?identifier=...|9434765919`), a name or a date of birth would be kept in
plain text in every log file and log shipper. The filter keeps the path and the names of
the parameters, which is what operators need, and replaces every value with `*`.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

ACCESS_LOGGER = "uvicorn.access"
# A parameter name kept as it is: FHIR and API names have no digits; anything else (a
# bare value sent without "=") could be the identifier itself.
_NAME = re.compile(r"[A-Za-z_][A-Za-z_:.\-]{0,39}")


def redact(target: str) -> str:
    """`/path?a=1&b=2` as `/path?a=*&b=*`."""
    path, mark, query = target.partition("?")
    if not mark:
        return target
    names = [
        name if _NAME.fullmatch(name) else "*"
        for name, _value in parse_qsl(query, keep_blank_values=True)
    ]
    return path + "?" + "&".join(f"{name}=*" for name in names) if names else path


class RedactQuery(logging.Filter):
    """For uvicorn's access log record: (client, method, path with query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact(args[2]), args[3], args[4])
        return True


def install() -> None:
    """Once per process (each uvicorn worker imports the app after setting up logging)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQuery) for f in logger.filters):
        logger.addFilter(RedactQuery())
