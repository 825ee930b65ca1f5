"""The Mental Health Act's code lists (MHA.md §2, §4)."""

from __future__ import annotations

RIGHTS_KINDS: dict[str, str] = {
    "s132": "Rights as a detained patient (s.132)",
    "s132a": "Rights on a community treatment order (s.132A)",
    "s130d": "Information about independent mental health advocates (s.130D)",
}

UNDERSTOOD: dict[str, str] = {
    "yes": "Understood",
    "partly": "Partly understood",
    "no": "Not understood",
}
