"""Reading ER7 (HL7 v2 pipe form, versions 2.3 to 2.5) and writing ACKs.

Segments are split by python-hl7; fields are read here from each field's own ER7 text,
because python-hl7's accessor keys fail on a field that has fewer components than asked
for, which real PAS messages do all the time. Everything read is a plain string, "" when
absent.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import hl7

from app.clock import utcnow

MLLP_FRAME = "\x0b\x1c"
# YYYY[MM[DD[HH[MM[SS[.S+]]]]]][+/-ZZZZ], as DTM and TS have it.
_TS = re.compile(
    r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.\d{1,4})?(?:([+-])(\d{2})(\d{2}))?"
)


class Unparsable(Exception):
    """Not an HL7 v2 message we can read at all: answered AR."""


@dataclass(frozen=True)
class Message:
    """A parsed message and what its header says."""

    parsed: hl7.Message
    text: str
    sending_application: str
    sending_facility: str
    receiving_application: str
    receiving_facility: str
    control_id: str
    message_type: str
    event: str
    version: str
    processing_id: str

    def segment(self, name: str) -> hl7.Segment | None:
        try:
            return self.parsed.segment(name)
        except KeyError:
            return None

    def reps(self, segment: str, field: int) -> list[list[str]]:
        """A field's repetitions, each a list of its components (unescaped)."""
        seg = self.segment(segment)
        return field_reps(self.parsed, seg, field) if seg is not None else []

    def get(self, segment: str, field: int, component: int = 1, repetition: int = 1) -> str:
        reps = self.reps(segment, field)
        if len(reps) < repetition:
            return ""
        comps = reps[repetition - 1]
        return comps[component - 1].strip() if len(comps) >= component else ""


def field_reps(parsed: hl7.Message, seg: hl7.Segment, field: int) -> list[list[str]]:
    try:
        raw = str(seg[field])
    except IndexError:
        return []
    if not raw:
        return []
    _segment, _field, rep, comp, sub = parsed.separators[:5]
    return [[parsed.unescape(c.split(sub)[0]) for c in r.split(comp)] for r in raw.split(rep) if r]


def clean(text: str) -> str:
    """The message as ER7: MLLP framing taken off, segments ended by CR (many senders and
    files use LF or CRLF)."""
    text = text.strip().strip(MLLP_FRAME).strip()
    return text.replace("\r\n", "\r").replace("\n", "\r")


def parse(text: str) -> Message:
    text = clean(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise Unparsable("The message does not start with an MSH segment.")
    try:
        parsed = hl7.parse(text)
        msh = parsed.segment("MSH")
    except Exception as error:  # python-hl7 raises several kinds on noise
        raise Unparsable(f"The message could not be parsed: {error}") from error

    def header(n: int, component: int = 1) -> str:
        reps = field_reps(parsed, msh, n)
        comps = reps[0] if reps else []
        return comps[component - 1].strip() if len(comps) >= component else ""

    message = Message(
        parsed=parsed,
        text=text,
        sending_application=header(3),
        sending_facility=header(4),
        receiving_application=header(5),
        receiving_facility=header(6),
        control_id=header(10),
        message_type=header(9, 1).upper(),
        event=(header(9, 2) or _evn_type(parsed)).upper(),
        version=header(12),
        processing_id=header(11) or "P",
    )
    if not message.control_id:
        raise Unparsable("MSH-10 (message control id) is empty.")
    if not message.message_type:
        raise Unparsable("MSH-9 (message type) is empty.")
    if len(message.control_id) > 199:
        raise Unparsable("MSH-10 (message control id) is longer than 199 characters.")
    return message


def _evn_type(parsed: hl7.Message) -> str:
    """EVN-1, where older (2.3) senders put the event when MSH-9 has only the type."""
    try:
        reps = field_reps(parsed, parsed.segment("EVN"), 1)
    except KeyError:
        return ""
    return reps[0][0].strip() if reps and reps[0] else ""


def parse_time(value: str, tz: ZoneInfo) -> datetime | None:
    """A TS/DTM to minute precision or finer, in UTC; without an offset it is local time
    (as NHS PAS systems send it). None if absent; ValueError if malformed."""
    value = value.strip()
    if not value:
        return None
    match = _TS.fullmatch(value)
    if not match or match.group(5) is None:
        raise ValueError(f"{value!r} is not a time to the minute (YYYYMMDDHHMM[SS][+ZZZZ])")
    year, month, day, hour, minute, second = (int(g or 0) for g in match.groups()[:6])
    moment = datetime(year, month, day, hour, minute, second)
    if match.group(7):
        sign = 1 if match.group(7) == "+" else -1
        offset = sign * (int(match.group(8)) * 60 + int(match.group(9)))
        return moment.replace(tzinfo=timezone(timedelta(minutes=offset))).astimezone(UTC)
    return moment.replace(tzinfo=tz).astimezone(UTC)


def parse_date(value: str) -> date | None:
    value = value.strip()
    if not value:
        return None
    if not re.fullmatch(r"\d{8}.*", value):
        raise ValueError(f"{value!r} is not a date (YYYYMMDD)")
    return datetime.strptime(value[:8], "%Y%m%d").date()


def escape(text: str) -> str:
    """Text for an ER7 field: the delimiters escaped, line breaks as spaces."""
    text = text.replace("\\", "\\E\\")
    for char, code in (("|", "F"), ("^", "S"), ("~", "R"), ("&", "T")):
        text = text.replace(char, f"\\{code}\\")
    return " ".join(text.split())


@dataclass(frozen=True)
class Problem:
    """Why a message was not applied, for ERR: HL7 table 0357 code and where."""

    code: str  # 0357: 100 segment, 101 required field, 102 data type, 103 table value,
    # 200 message type, 204 unknown key, 205 duplicate key, 207 application error
    text: str
    location: str = ""  # segment^sequence^field, as ERR-2 (ERL) has it


ERROR_NAMES = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "207": "Application internal error",
}


def ack(code: str, message: Message | None, text: str = "", problem: Problem | None = None) -> str:
    """An original-mode ACK (MSA-1 AA, AE or AR) in ER7, answering ``message`` (or, when it
    could not be read, a minimal ACK with an empty MSA-2)."""
    now = utcnow().strftime("%Y%m%d%H%M%S+0000")
    ack_id = "WF" + secrets.token_hex(8)
    if message is not None:
        msh = (
            f"MSH|^~\\&|{escape(message.receiving_application or 'WARDFLOW')}"
            f"|{escape(message.receiving_facility)}|{escape(message.sending_application)}"
            f"|{escape(message.sending_facility)}|{now}||ACK^{escape(message.event)}^ACK"
            f"|{ack_id}|{escape(message.processing_id)}|{escape(message.version or '2.4')}"
        )
        control_id = escape(message.control_id)
    else:
        msh = f"MSH|^~\\&|WARDFLOW||||{now}||ACK|{ack_id}|P|2.4"
        control_id = ""
    segments = [msh, f"MSA|{code}|{control_id}|{escape(text)[:80]}"]
    if problem is not None:
        name = ERROR_NAMES.get(problem.code, "Application error")
        where = problem.location or "^^"
        # ERR-1 as 2.3 and 2.4 have it (segment^sequence^field^code&text), then 2.5's:
        # ERR-2 location, ERR-3 code^text^table, ERR-4 severity, ERR-8 the user message.
        segments.append(
            f"ERR|{where}^{problem.code}&{name}|{problem.location}"
            f"|{problem.code}^{name}^HL70357|E||||{escape(problem.text)}"
        )
    return "\r".join(segments) + "\r"
