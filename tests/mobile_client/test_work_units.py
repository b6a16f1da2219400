"""Unit tests of the staff and council modules, in Chromium: CSV cells that a spreadsheet would run as a
formula, the calendar periods of the dashboard, what changed between two versions of a report, and the
areas a council member may look at."""

from __future__ import annotations

from tests.mobile_client.harness import App
from tests.mobile_client.test_units import run


def test_csv_neutralises_formulas_and_quotes_what_needs_it(app: App) -> None:
    app.open("/welcome")
    rows = run(
        app,
        """
        const { cell, toCsv } = await import(base + 'js/csv.js');
        const cells = ['=1+1', '+31 6 1234', '-2', '@SUM(A1)', '\\tx', '\\rx', 'a,b', 'say "hi"', ' pad',
                       'plain', 'Dam', -3, 0.25, null, undefined, NaN];
        return { cells: cells.map(cell), text: toCsv([['a', '=b'], [1, 'c\\nd']]) };
        """,
    )
    assert rows["cells"] == [
        "'=1+1",
        "'+31 6 1234",
        "'-2",
        "'@SUM(A1)",
        "'\tx",
        '"\'\rx"',
        '"a,b"',
        '"say ""hi"""',
        '" pad"',
        "plain",
        "Dam",
        "-3",  # a number we wrote stays a number
        "0.25",
        "",
        "",
        "",
    ]
    assert rows["text"] == 'a,\'=b\r\n1,"c\nd"\r\n'


def test_dashboard_periods_are_local_iso_weeks_and_months(app: App) -> None:
    app.open("/welcome")
    found = run(
        app,
        """
        const { periodsBetween, areasFor } = await import(base + 'screens/dashboard.js');
        const tz = 'Europe/Amsterdam';
        const weeks = periodsBetween(new Date('2025-12-27T12:00:00Z'), new Date('2026-01-13T12:00:00Z'), 'week', tz);
        const months = periodsBetween(new Date('2026-01-31T23:30:00Z'), new Date('2026-02-28T23:00:00Z'), 'month', tz);
        const areas = [
          { id: 1, name: 'Amsterdam', level: 'municipality', parent_id: null },
          { id: 2, name: 'Centrum', level: 'district', parent_id: 1 },
          { id: 3, name: 'Zuid', level: 'district', parent_id: 1 },
          { id: 4, name: 'Dam', level: 'neighbourhood', parent_id: 2 },
          { id: 5, name: 'Pijp', level: 'neighbourhood', parent_id: 3 },
        ];
        return {
          weeks, months,
          council: areasFor(areas, { admin: false, councilAreaIds: [2] }).map((a) => a.name),
          admin: areasFor(areas, { admin: true, councilAreaIds: [] }).map((a) => a.name),
        };
        """,
    )
    assert found["weeks"] == ["2025-W52", "2026-W01", "2026-W02", "2026-W03"]
    # 31 January 23:30 UTC is already 1 February in Amsterdam; the end (1 March 00:00 there) is exclusive.
    assert found["months"] == ["2026-02"]
    assert found["council"] == ["Centrum", "Dam"]
    assert found["admin"] == ["Amsterdam", "Centrum", "Zuid", "Dam", "Pijp"]


def test_what_changed_between_the_version_read_and_now(app: App) -> None:
    app.open("/welcome")
    found = run(
        app,
        """
        const { baseOf, changesSince } = await import(base + 'screens/staff_report.js');
        const read = { version: 2, status: 'accepted', due_at: '2026-03-01T10:00:00Z', merged_into_id: null,
                       history: [{ to_status: 'submitted' }, { to_status: 'accepted' }] };
        const now = { ...read, version: 4, status: 'on_hold', due_at: '2026-03-08T10:00:00Z',
                      history: [...read.history, { to_status: 'scheduled', public_message: 'Maandag' },
                                { to_status: 'on_hold', internal_note: 'Wacht' }] };
        return { same: changesSince(baseOf(read), read), changed: changesSince(baseOf(read), now) };
        """,
    )
    assert found["same"] == []
    assert [c["kind"] for c in found["changed"]] == ["status", "due", "history", "history"]
    assert found["changed"][0] == {"kind": "status", "from": "accepted", "to": "on_hold"}
    assert found["changed"][2]["change"]["public_message"] == "Maandag"
