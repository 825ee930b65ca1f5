"""The trust's patient administration system (PAS) feed: HL7 v2 ADT messages (issue 21).

HL7 library: ``hl7`` (python-hl7, BSD, pure Python, no dependencies), chosen over
``hl7apy``: it splits ER7 leniently whatever the version (NHS PAS systems send 2.3 to 2.5
with their own Z segments and loose field types, and one odd message must never stop the
feed), unescapes field text, and is small enough to read. hl7apy validates each message
against its version's structures, which would refuse real-world messages we can still
apply safely, and adds a large dependency for that.

What we do ourselves, and why: fields are read from each field's ER7 text (hl7v2.py),
because python-hl7's accessor keys fail on fields with fewer components than asked for;
ACKs are written in hl7v2.ack, because ours carry MSA-3 and an ERR segment that
python-hl7's ``create_ack`` does not; and the MLLP listener frames blocks itself
(listener.py), because python-hl7's asyncio MLLP reader answers each leftover piece of a
too-large message separately, where the sender must get one AR for it.
"""
