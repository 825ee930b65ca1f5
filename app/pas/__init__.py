"""The trust's patient administration system (PAS) feed: HL7 v2 ADT messages (issue 21).

HL7 library: ``hl7`` (python-hl7, MIT, pure Python). Chosen over ``hl7apy`` because
it parses ER7 leniently, whatever the version (NHS PAS systems send 2.3 to 2.5 with their
own Z segments and loose field types, and one message must never stop the feed), it
builds ACKs (``Message.create_ack``), and it ships an asyncio MLLP server and client
(``hl7.mllp``) for the listener with no other dependency. hl7apy validates against each
version's message structures, which would refuse real-world messages we can still apply,
and has no MLLP transport of its own.
"""
