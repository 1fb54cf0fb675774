"""Adding customers to groups from a CSV file of emails and group codes (services.imports.files
reads it and maps its columns).

Each row goes through the same checks as adding by hand (services.membership.changes): a full
group, a blocked customer, an inactive or automatic group, one group per customer. The owner sees
the rows refused with their row numbers, and imports the rest, or with "all or nothing" none.
"""

from dataclasses import dataclass, field, replace

from models.customer import Customer
from models.group import CustomerGroup
from services.imports.files import (
    LOOKUP_CHUNK,
    PREVIEW_ROWS,
    CsvFile,
    ImportKind,
    PreviewRow,
    Progress,
    RowError,
    columns_for,
    data_rows,
    shown,
)
from services.membership.changes import AddMode, AddResult, RowRefusal, add_rows, check_rows
from services.staff.actor import Acting, Permission, actor_name, require
from services.storage.database import reader_connection


@dataclass(frozen=True)
class MembershipCheck:
    rows: int
    valid: int
    error_rows: int
    errors: list[RowError]
    preview: list[PreviewRow]
    by_group: dict[str, int]  # group name -> valid rows for it


@dataclass(frozen=True)
class MembershipImportResult:
    imported: bool
    added: int
    already: int
    error_rows: int
    errors: list[RowError]
    groups: list[AddResult] = field(default_factory=list)


# --- Memberships ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Member:
    row: int
    customer_id: int
    group_id: int


@dataclass
class _MemberCheck:
    valid: list[_Member]
    errors: list[RowError]
    error_rows: int
    rows: int
    raw: dict[int, dict[str, str]]


async def _check_members(file: CsvFile, columns: dict[str, int], mode: AddMode) -> _MemberCheck:
    cells = list(data_rows(file, columns))
    emails = sorted({c["email"].lower() for _, c in cells if c["email"]})
    customers: dict[str, int] = {}
    connection = reader_connection()
    for start in range(0, len(emails), LOOKUP_CHUNK):
        customers.update(
            await Customer.filter(email__in=emails[start : start + LOOKUP_CHUNK])
            .using_db(connection)
            .values_list("email", "id")  # type: ignore[arg-type]
        )
    groups = {g.code: g for g in await CustomerGroup.all().using_db(connection)}
    valid: list[_Member] = []
    errors: list[RowError] = []
    first_row: dict[tuple[int, int], int] = {}
    group_row: dict[int, tuple[int, int]] = {}  # customer -> (group, row), for move / primary
    raw: dict[int, dict[str, str]] = {}
    rows = error_rows = 0
    for number, row in cells:
        rows += 1
        if rows <= PREVIEW_ROWS:
            raw[number] = row
        problems: list[tuple[str, str]] = []
        email, code = row["email"].lower(), row["group_code"].upper()
        customer_id = customers.get(email)
        if not email:
            problems.append(("email", "Email is missing."))
        elif customer_id is None:
            problems.append(("email", f"No customer has the email “{shown(email, 60)}”."))
        group = groups.get(code)
        if not code:
            problems.append(("group_code", "Group code is missing."))
        elif group is None:
            problems.append(("group_code", f"There is no group with the code “{shown(code)}”."))
        if not problems:
            assert customer_id is not None and group is not None
            if (customer_id, group.id) in first_row:
                problems.append(("email", f"{email} and {code} are already in row {first_row[customer_id, group.id]}."))
            elif mode != AddMode.ADD and customer_id in group_row:
                problems.append(
                    (
                        "group_code",
                        f"{email} is already listed for another group in row {group_row[customer_id][1]}: "
                        "moving or making primary takes one group per customer.",
                    )
                )
        if problems:
            errors += [RowError(number, key, message) for key, message in problems]
            error_rows += 1
            continue
        assert customer_id is not None and group is not None
        first_row[customer_id, group.id] = number
        group_row[customer_id] = (group.id, number)
        valid.append(_Member(number, customer_id, group.id))
    return _MemberCheck(valid=valid, errors=errors, error_rows=error_rows, rows=rows, raw=raw)


def _rows(checked: _MemberCheck) -> list[tuple[int, int, int]]:
    return [(m.row, m.customer_id, m.group_id) for m in checked.valid]


def _with_refusals(checked: _MemberCheck, refused: list[RowRefusal]) -> _MemberCheck:
    """The check, with the rows the membership service refuses (a full group, a blocked customer,
    one group per customer ...) moved from valid to errors, at the cell the reason is about."""
    if not refused:
        return checked
    rows = {r.key for r in refused}
    errors = checked.errors + [
        RowError(r.key, "email" if r.field == "customer" else "group_code", r.message) for r in refused
    ]
    errors.sort(key=lambda e: e.row)  # stable: a row's own errors stay in their order
    return replace(
        checked,
        valid=[m for m in checked.valid if m.row not in rows],
        errors=errors,
        error_rows=checked.error_rows + len(rows),
    )


async def check_memberships(
    *, file: CsvFile, mapping: dict[str, str | None], mode: AddMode = AddMode.ADD
) -> MembershipCheck:
    """Check every row: a known customer email, a known group code, and what adding them would meet
    (the same checks as adding by hand, row after row: capacity, blocked customers, inactive and
    automatic groups, one group per customer)."""
    columns = columns_for(file, mapping, ImportKind.MEMBERSHIPS)
    checked = await _check_members(file, columns, mode)
    checked = _with_refusals(checked, await check_rows(rows=_rows(checked), mode=mode))
    names = dict(await CustomerGroup.all().values_list("id", "name"))  # type: ignore[arg-type]
    by_group: dict[str, int] = {}
    for member in checked.valid:
        by_group[names[member.group_id]] = by_group.get(names[member.group_id], 0) + 1
    errors: dict[int, list[str]] = {}
    for error in checked.errors:
        errors.setdefault(error.row, []).append(error.message)
    preview = [
        PreviewRow(
            row=number,
            action="error" if number in errors else "add",
            values={"email": cells["email"].lower(), "group_code": cells["group_code"].upper()},
            errors=tuple(errors.get(number, ())),
        )
        for number, cells in checked.raw.items()
    ]
    return MembershipCheck(
        rows=checked.rows,
        valid=len(checked.valid),
        error_rows=checked.error_rows,
        errors=checked.errors,
        preview=preview,
        by_group=by_group,
    )


async def import_memberships(
    *,
    file: CsvFile,
    mapping: dict[str, str | None],
    all_or_nothing: bool = False,
    mode: AddMode = AddMode.ADD,
    actor: Acting,
    progress: Progress | None = None,
) -> MembershipImportResult:
    """Add the customers in the file's rows to their groups, in one transaction.

    Each row goes through the membership service's checks (services.membership.changes.add_rows): a row
    they refuse (the group is full, the customer is blocked ...) is reported with its row number
    and the rest are added, or, with `all_or_nothing`, nothing is."""
    await require(actor, Permission.MANAGE_MEMBERS)
    say = progress or (lambda _share: None)
    columns = columns_for(file, mapping, ImportKind.MEMBERSHIPS)
    checked = await _check_members(file, columns, mode)
    say(0.3)
    if (checked.errors and all_or_nothing) or not checked.valid:
        return MembershipImportResult(
            imported=False, added=0, already=0, error_rows=checked.error_rows, errors=checked.errors
        )
    added = await add_rows(
        rows=_rows(checked),
        mode=mode,
        actor=actor,
        reason=f"Imported from CSV by {actor_name(actor)}",
        all_or_nothing=all_or_nothing,
    )
    checked = _with_refusals(checked, added.refused)
    say(1.0)
    return MembershipImportResult(
        imported=added.written,
        added=sum(r.added for r in added.groups) if added.written else 0,
        already=sum(r.already for r in added.groups) if added.written else 0,
        error_rows=checked.error_rows,
        errors=checked.errors,
        groups=list(added.groups) if added.written else [],
    )
