"""Who may do what. One place, used by every service, so the API and pages agree.

Ward staff work only on their own wards; bed managers place people anywhere but do not
make clinical entries; the safeguarding lead reads everything clinical; directors read
aggregate figures, not individual records; admins do everything. An integration account
(role "service") reads what a clinical reader with no ward limit reads, through the API
only (app/deps.page_user refuses it every page but its own account), and writes nothing.

Which *people* ward staff may read (on their wards now, or their own ward's stay for
WARDFLOW_RECORDS_AFTER_DISCHARGE_DAYS after it ended, and only what was recorded on it)
is the one read rule in app/auth/scope.py, which every read path calls.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.auth.models import User
from app.errors import Forbidden

CLINICAL_READERS = {"admin", "safeguarding_lead", "bed_manager", "ward_staff", "service"}
PLACERS = {"admin", "bed_manager", "ward_staff"}
CLINICAL_WRITERS = {"admin", "ward_staff"}


def ward_ids(user: User) -> set[int]:
    return {w.id for w in user.wards}


def is_ward_scoped(user: User) -> bool:
    return user.role == "ward_staff"


def require_role(user: User, roles: Iterable[str], doing: str) -> None:
    if user.role not in set(roles):
        raise Forbidden(f"Your role ({user.role}) cannot {doing}.")


def require_ward(user: User, ward_id: int, doing: str) -> None:
    if is_ward_scoped(user) and ward_id not in ward_ids(user):
        raise Forbidden(f"You can {doing} only on your own wards.")


def can_read_ward(user: User, ward_id: int) -> bool:
    if user.role not in CLINICAL_READERS:
        return False
    return not is_ward_scoped(user) or ward_id in ward_ids(user)


def require_read_ward(user: User, ward_id: int) -> None:
    require_role(user, CLINICAL_READERS, "see patient records")
    require_ward(user, ward_id, "see patient records")


def require_admin(user: User, doing: str) -> None:
    require_role(user, {"admin"}, doing)
