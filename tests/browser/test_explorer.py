"""The Identity Risks Explorer in a real browser, served by `ciem explorer` and as the static
snapshot opened from disk (file://): group-by counts against the views, filters, sorting,
every tab of the side panel against the tables, the Fix-in-AWS link, hostile strings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Browser, Page

from pipelines.lib.lake import Lake
from pipelines.lib.serve.explorer.data import detail_payload
from pipelines.lib.serve.explorer.page import write_snapshot
from tests.browser import warehouse as w
from tests.browser.conftest import Watched, shot, split_url, start_explorer, stop


@pytest.fixture(scope="module")
def small_lake(tmp_path_factory: pytest.TempPathFactory) -> Lake:
    return w.build_small(tmp_path_factory.mktemp("explorer-small"))


@pytest.fixture(scope="module", params=["live", "static"])
def explorer(request: pytest.FixtureRequest, small_lake: Lake) -> Iterator[tuple[str, str]]:
    """(mode, URL): the page served by `ciem explorer` (the URL it printed, with its token), or
    the snapshot file the asset writes."""
    if request.param == "live":
        proc, url = start_explorer(small_lake.root)
        yield "live", url
        stop(proc)
    else:
        path, _ = write_snapshot(small_lake)
        yield "static", path.as_uri()


def query(lake: Lake, sql: str) -> list[tuple]:
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        return con.execute(sql).fetchall()


def open_page(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('body[data-ready="1"]')


def group_counts(page: Page) -> dict[str, int]:
    return {
        g.get_attribute("data-key"): int(g.get_attribute("data-count"))
        for g in page.query_selector_all('[data-testid="group"]')
    }


def shown_ids(page: Page) -> set[str]:
    return {
        r.get_attribute("data-id") for r in page.query_selector_all('[data-testid="detection-row"]')
    }


def set_filter(page: Page, name: str, value: str) -> None:
    page.select_option(f'[data-testid="filter-{name}"]', value)


def open_detection(page: Page, detection_id: str) -> None:
    page.keyboard.press("Escape")  # closes the panel if one is open
    set_filter(page, "status", "")
    page.click('[data-testid="groupby-none"]')
    page.click(f'[data-testid="detection-row"][data-id="{detection_id}"]')
    page.wait_for_selector(f'[data-testid="panel"][data-loaded-id="{detection_id}"]')


def tab(page: Page, name: str) -> None:
    page.click(f'[data-testid="tab-{name}"]')
    page.wait_for_selector(f'[data-testid="tab-body"][data-tab="{name}"]')


def test_group_by_counts_match_the_views(
    explorer: tuple[str, str], watched: Watched, small_lake: Lake
) -> None:
    mode, url = explorer
    page = watched.page
    open_page(page, url)
    by_risk = dict(query(small_lake, "select rule_id, open_detections from identity_risks_by_risk"))
    by_resource = dict(
        query(small_lake, "select resource_arn, open_detections from identity_risks_by_resource")
    )
    assert group_counts(page) == by_risk  # the default view: open risks grouped by risk
    shot(page, f"{mode}-list-by-risk")
    page.click('[data-testid="groupby-resource"]')
    assert group_counts(page) == by_resource
    shot(page, f"{mode}-list-by-resource")
    page.click('[data-testid="groupby-none"]')
    open_ids = {
        r[0] for r in query(small_lake, "select detection_id from detections where status = 'open'")
    }
    assert shown_ids(page) == open_ids
    shot(page, f"{mode}-list-flat")
    # Header: open detections by severity and per run.
    sev = dict(
        query(
            small_lake, "select severity, count(*) from detections where status = 'open' group by 1"
        )
    )
    for s in ("critical", "high", "medium", "low"):
        assert page.inner_text(f'[data-testid="sev-{s}"] b') == str(sev.get(s, 0))
    points = [
        (p.get_attribute("data-as-of"), int(p.get_attribute("data-open")))
        for p in page.query_selector_all('[data-testid="run-point"]')
    ]
    assert points == [("2026-11-18", 4), ("2026-11-19", 4), ("2026-11-20", 11)]
    assert watched.errors == []


def test_live_server_answers_only_its_fixed_endpoints(explorer: tuple[str, str]) -> None:
    mode, url = explorer
    if mode == "static":
        return  # a file has no endpoints
    import urllib.error
    import urllib.request

    base, token = split_url(url)
    assert token  # the real path: the explorer as started, with its token

    def status(path: str, host: str | None = None) -> int:
        headers = {"Authorization": f"token {token}"}
        if host:
            headers["Host"] = host
        request = urllib.request.Request(base + path, headers=headers)  # noqa: S310 (loopback)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 (loopback)
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    assert status("api/list") == 200
    assert status("api/detections/d-gap") == 200
    assert status("api/detections/no-such-id") == 404
    assert status("api/query?sql=select%201") == 404
    assert status("api/list", host="attacker.example") == 400  # DNS rebinding


def test_a_risk_shows_five_resources_then_all(explorer: tuple[str, str], watched: Watched) -> None:
    page = watched.page
    open_page(page, explorer[1])
    group = '[data-testid="group"][data-key="inactive-identity"]'
    assert len(page.query_selector_all(f'{group} [data-testid="detection-row"]')) == 5
    page.click(f'{group} [data-testid="show-all"]')
    rows = page.query_selector_all(f'{group} [data-testid="detection-row"]')
    assert {r.get_attribute("data-id") for r in rows} == {f"d-inactive-{i}" for i in range(7)}


def test_filters_and_sorting(explorer: tuple[str, str], watched: Watched) -> None:
    page = watched.page
    open_page(page, explorer[1])
    page.click('[data-testid="groupby-none"]')
    everything = {d["detection_id"] for d in w.DETECTIONS}

    def expect(predicate) -> set[str]:
        return {d["detection_id"] for d in w.DETECTIONS if predicate(d)}

    set_filter(page, "status", "")
    assert shown_ids(page) == everything
    set_filter(page, "status", "suppressed")
    assert shown_ids(page) == {"d-alice-admin"}
    set_filter(page, "status", "resolved")
    assert shown_ids(page) == {"d-old"}
    set_filter(page, "status", "")
    set_filter(page, "account", w.A2)
    assert shown_ids(page) == expect(lambda d: d["account_id"] == w.A2)
    set_filter(page, "severity", "high")
    assert shown_ids(page) == {"d-bob-admin"}
    set_filter(page, "account", "")
    set_filter(page, "severity", "")
    set_filter(page, "rule", "inactive-identity")
    assert shown_ids(page) == expect(lambda d: d["rule_id"] == "inactive-identity")
    set_filter(page, "rule", "")
    set_filter(page, "type", "lambda_function")
    assert shown_ids(page) == {"d-fn"}
    set_filter(page, "type", "")
    page.fill('[data-testid="filter-text"]', "ALICE")
    page.wait_for_function(
        "document.querySelector('[data-testid=status-line]').dataset.count === '2'"
    )
    assert shown_ids(page) == {"d-gap", "d-alice-admin"}
    page.fill('[data-testid="filter-text"]', "")
    page.wait_for_function(
        f"document.querySelector('[data-testid=status-line]').dataset.count === '{len(everything)}'"
    )
    # Sorting: by title (column header), then reversed.
    page.click('th[data-sort="title"]')
    titles = [
        t.lower()
        for t in page.eval_on_selector_all(
            '[data-testid="detection-row"] td:nth-child(2) div',
            "els => els.map(e => e.textContent)",
        )
    ]
    assert titles == sorted(titles)
    page.click('th[data-sort="title"]')
    titles = [
        t.lower()
        for t in page.eval_on_selector_all(
            '[data-testid="detection-row"] td:nth-child(2) div',
            "els => els.map(e => e.textContent)",
        )
    ]
    assert titles == sorted(titles, reverse=True)


def test_every_tab_of_a_gap_detection(
    explorer: tuple[str, str], watched: Watched, small_lake: Lake
) -> None:
    mode, url = explorer
    page = watched.page
    open_page(page, url)
    open_detection(page, "d-gap")
    assert page.inner_text('[data-testid="panel-title"]') == w.DETECTIONS[1]["title"]

    # Insights: per service used / unused / unobservable as in permission_insights, gap 6 of 9.
    tab(page, "insights")
    expected = {
        s: (u, n, o)
        for s, u, n, o in query(
            small_lake,
            f"""select service, count(*) filter (where usage_status = 'used'),
                       count(*) filter (where usage_status = 'unused'),
                       count(*) filter (where usage_status = 'unobservable')
                from permission_insights where principal_arn = '{w.ALICE}' group by 1""",
        )
    }
    rows = {
        r.get_attribute("data-service"): (
            int(r.get_attribute("data-used")),
            int(r.get_attribute("data-unused")),
            int(r.get_attribute("data-unobservable")),
        )
        for r in page.query_selector_all('[data-testid="service-row"]')
    }
    assert rows == expected == {"s3": (2, 3, 0), "iam": (0, 2, 1), "ec2": (1, 1, 0)}
    gap = page.query_selector('[data-testid="gap"]')
    assert (gap.get_attribute("data-unused"), gap.get_attribute("data-observable")) == ("6", "9")
    assert "66.67%" in gap.inner_text()
    shot(page, f"{mode}-tab-insights")

    # Relationships: alice's edges, her group's policy, and the role she can assume with its
    # trust; the two risky edges drawn in red with their reason.
    tab(page, "relationships")
    edges = {
        (
            r.get_attribute("data-source"),
            r.get_attribute("data-relationship"),
            r.get_attribute("data-target"),
            r.get_attribute("data-risky"),
        )
        for r in page.query_selector_all('[data-testid="edge-row"]')
    }
    hostile_edges = {
        (s, rel, t, str(risky).lower())
        for s, _, rel, t, _, risky, _ in w.RELATIONSHIPS
        if (t == w.HOSTILE_ROLE and s != w.ALICE) or s == w.HOSTILE_ROLE
    }
    alice_edges = {
        (s, rel, t, str(risky).lower())
        for s, _, rel, t, _, risky, _ in w.RELATIONSHIPS
        if w.ALICE in (s, t) or s == w.DEVS
    }
    assert edges == alice_edges | hostile_edges
    assert len(page.query_selector_all('[data-testid="graph-edge"][data-risky="true"]')) == 2
    assert "can assume an administrator role" in page.inner_text('[data-testid="edges"]')
    # An edge's details (stored compact) are the tooltip of its relationship, indented.
    row = f'[data-testid="edge-row"][data-source="{w.ALICE}"][data-target="{w.HOSTILE_ROLE}"]'
    details = page.get_attribute(f'{row} [data-testid="edge-relationship"]', "title")
    assert json.loads(details) == {"reason": "can assume an administrator role"}
    assert "\n  " in details
    shot(page, f"{mode}-tab-relationships")

    # Resource: attributes, tags, groups and the inline policy pretty-printed.
    tab(page, "resource")
    assert page.inner_text('[data-attr="name"]') == "alice"
    assert page.inner_text('[data-testid="tag"]').split("\t") == ["team", "data"]
    assert page.inner_text('[data-testid="groups"]') == w.DEVS
    policy = page.query_selector('[data-testid="policy"][data-name="alice-inline"] pre')
    assert json.loads(policy.inner_text()) == w.ALICE_INLINE
    assert "\n  " in policy.inner_text()  # indented
    shot(page, f"{mode}-tab-resource")

    tab(page, "timeline")
    events = [
        (e.get_attribute("data-at"), e.get_attribute("data-type"))
        for e in page.query_selector_all('[data-testid="timeline-event"]')
    ]
    assert events == [("2026-11-18", "opened")]
    shot(page, f"{mode}-tab-timeline")

    # Remediation: the console link, the suggested policy, its verification, the copy button.
    tab(page, "remediation")
    link = page.query_selector('[data-testid="fix-in-aws"]')
    assert link.get_attribute("href") == w.DETECTIONS[1]["console_url"]
    assert link.get_attribute("target") == "_blank"
    assert json.loads(page.inner_text('[data-testid="suggested-policy"]')) == w.SUGGESTED_POLICY
    assert page.get_attribute('[data-testid="verification"]', "data-passed") == "true"
    assert (
        page.inner_text('[data-testid="remediation-text"]') == "How to fix large-permissions-gap."
    )
    page.click('[data-testid="copy-policy"]')
    page.wait_for_function("document.querySelector('[data-testid=copy-note]').textContent !== ''")
    shot(page, f"{mode}-tab-remediation")
    assert watched.errors == []


def test_timeline_newest_first_with_the_change_behind_it(
    explorer: tuple[str, str], watched: Watched
) -> None:
    page = watched.page
    open_page(page, explorer[1])
    open_detection(page, "d-alice-admin")
    tab(page, "timeline")
    types = [
        e.get_attribute("data-type")
        for e in page.query_selector_all('[data-testid="timeline-event"]')
    ]
    assert types == ["suppressed", "opened"]
    assert "break-glass user" in page.inner_text('[data-testid="panel"]')
    open_detection(page, "d-hostile")
    tab(page, "timeline")
    events = [
        (e.get_attribute("data-at"), e.get_attribute("data-type"))
        for e in page.query_selector_all('[data-testid="timeline-event"]')
    ]
    assert events == [
        ("2026-11-19", "severity_changed"),
        ("2026-11-19", "resource_changed"),
        ("2026-11-18", "opened"),
    ]
    assert "policy attached" in page.inner_text('[data-testid="tab-body"]')


def test_a_compute_resource_shows_its_role(explorer: tuple[str, str], watched: Watched) -> None:
    page = watched.page
    open_page(page, explorer[1])
    open_detection(page, "d-fn")
    tab(page, "insights")
    assert page.get_attribute('[data-testid="gap"]', "data-observable") == "2"
    tab(page, "relationships")
    assert len(page.query_selector_all('[data-testid="graph-edge"][data-risky="true"]')) == 1
    tab(page, "resource")
    assert page.inner_text('[data-attr="role_arn"]') == w.FN_ROLE
    admin = page.query_selector('[data-testid="policy"][data-name="AdministratorAccess"]')
    assert admin.get_attribute("data-via") == w.FN_ROLE
    assert json.loads(admin.query_selector("pre").inner_text()) == w.ADMIN_DOCUMENT


def test_hostile_strings_are_shown_never_run(explorer: tuple[str, str], watched: Watched) -> None:
    mode, url = explorer
    page = watched.page
    open_page(page, url)
    text = page.inner_text('[data-testid="list"]')
    assert w.SCRIPT_NAME in text and w.TITLE_IMG in text  # shown as text
    open_detection(page, "d-hostile")
    evidence = page.text_content('[data-testid="evidence"]')
    assert json.loads(evidence) == {
        "granting_policies": ["AdministratorAccess"],
        "note": w.SID_BREAKOUT,
    }
    assert "\n  " in evidence  # stored compact, indented by the page
    for name in ("insights", "relationships", "resource", "timeline", "remediation"):
        tab(page, name)
        if name == "resource":
            body = page.inner_text('[data-testid="tab-body"]')
            assert w.IMG_TAG in body and w.SCRIPT_TAG_KEY in body and w.SID_BREAKOUT in body
            assert w.SCRIPT_NAME in page.inner_text('[data-attr="name"]')
            # a number longer than a double holds is shown as stored, never rounded
            trust = page.inner_text('[data-testid="policy"][data-kind="trust"] pre')
            assert json.loads(trust) == w.TRUST_DOCUMENT
            shot(page, f"{mode}-hostile-resource")
    open_detection(page, "d-gap")
    tab(page, "remediation")
    assert w.SID_IMG in page.inner_text('[data-testid="suggested-policy"]')
    # A javascript: console URL never becomes a link.
    open_detection(page, "d-bob-admin")
    tab(page, "remediation")
    assert page.query_selector('[data-testid="fix-in-aws"]') is None
    page.wait_for_timeout(200)  # give any injected onerror a chance to fire
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 2  # the data block and the page script
    assert watched.dialogs == []
    assert watched.errors == []


def test_missing_tables_say_not_available(watched: Watched, tmp_path: Path) -> None:
    """A warehouse with only detections (no console_url, insights, relationships, timeline,
    configuration): every tab says so instead of failing."""
    lake = Lake.at(tmp_path)
    with duckdb.connect(str(lake.warehouse_path)) as con:
        con.execute(
            "create table detections as select 'd1' as detection_id, 'admin-iam-user' as rule_id, "
            "'high' as severity, 'arn:aws:iam::111111111111:user/x' as resource_arn, "
            "'iam_user' as resource_type, '111111111111' as account_id, "
            "'User x is admin' as title, "
            "date '2026-11-20' as first_seen_at, date '2026-11-20' as last_seen_at, "
            "'open' as status, '{}' as evidence, 'Remove admin.' as remediation"
        )
    path, _ = write_snapshot(lake)
    page = watched.page
    open_page(page, path.as_uri())
    assert group_counts(page) == {"admin-iam-user": 1}
    open_detection(page, "d1")
    for name in ("insights", "relationships", "resource", "timeline"):
        tab(page, name)
        assert page.query_selector('[data-testid="tab-body"] [data-testid="not-available"]')
    tab(page, "remediation")
    assert "console_url not available" in page.inner_text('[data-testid="tab-body"]')
    assert page.inner_text('[data-testid="remediation-text"]') == "Remove admin."
    assert page.inner_text('[data-testid="runs-chart"]') == "run history not available"
    assert watched.errors == []


def test_a_cut_neighbourhood_says_how_much_is_not_drawn(
    watched: Watched, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With fewer edges and used actions allowed than alice has, the panel draws the first ones
    and names the whole count (a snapshot of its own lake, written with the caps lowered)."""
    lake = w.build_small(tmp_path)
    with duckdb.connect(str(lake.warehouse_path), read_only=True) as con:
        whole = detail_payload(con, "d-gap")["relationships"]["edges"]
    monkeypatch.setattr("pipelines.lib.serve.explorer.data.MAX_EDGES", 3)
    monkeypatch.setattr("pipelines.lib.serve.explorer.insights.MAX_USED_ACTIONS", 2)
    path, _ = write_snapshot(lake)
    page = watched.page
    open_page(page, path.as_uri())
    open_detection(page, "d-gap")
    tab(page, "insights")
    used = [a for p, a, _, status, _, _ in w.INSIGHTS if p == w.ALICE and status == "used"]
    assert len(page.query_selector_all('[data-testid="used-actions"] tbody tr')) == 2
    assert page.inner_text('[data-testid="used-actions-heading"]') == (
        f"Used actions: the 2 most called of {len(used)}"
    )
    tab(page, "relationships")
    assert len(whole) > 3
    rows = page.query_selector_all('[data-testid="edge-row"]')
    assert [(r.get_attribute("data-source"), r.get_attribute("data-target")) for r in rows] == [
        (e["source_arn"], e["target_arn"]) for e in whole[:3]
    ]
    shown = page.query_selector('[data-testid="edges-shown"]')
    assert (shown.get_attribute("data-shown"), shown.get_attribute("data-total")) == (
        "3",
        str(len(whole)),
    )
    assert shown.inner_text().startswith(f"The first 3 of {len(whole)} relationships")
    assert watched.errors == []


def test_the_token_opens_the_page_then_leaves_the_address_bar(
    browser: Browser, small_lake: Lake
) -> None:
    """The URL `ciem explorer` printed: the page loads its data (the API calls carry the cookie
    the URL set) under the served policy, the token is gone from the address bar and a reload
    still works; another browser without the token gets 403; no page may frame the explorer."""
    proc, url = start_explorer(small_lake.root)
    base, token = split_url(url)
    try:
        context = browser.new_context()  # the page's own Content-Security-Policy applies
        page = context.new_page()
        page.set_default_timeout(10_000)
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        open_page(page, url)
        assert page.url == base and token not in page.url
        assert len(shown_ids(page)) > 0
        page.reload()
        page.wait_for_selector('body[data-ready="1"]')
        open_detection(page, "d-gap")
        assert errors == []
        # A page of another origin framing the explorer gets nothing (X-Frame-Options,
        # frame-ancestors 'none').
        framing = context.new_page()
        framing.set_content(f'<iframe id="f" src="{url}" width="800" height="600"></iframe>')
        framing.wait_for_timeout(1000)
        frame = framing.frame_locator("#f")
        assert frame.locator('[data-testid="list"]').count() == 0
        context.close()
        stranger = browser.new_context()
        other = stranger.new_page()
        response = other.goto(base)
        assert response is not None and response.status == 403
        assert "needs its token" in other.inner_text("body")
        stranger.close()
    finally:
        stop(proc)
