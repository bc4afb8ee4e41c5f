"""A dashboard holding the warehouse open never blocks a run (issue 18, item 1).

Measured before: a process holding `ciem.duckdb` open read-only made `ciem run` wait 60 s and
fail half-way (`Could not set lock on file … Conflicting lock is held`), with the upstream models
already rewritten. Now the models build a copy that replaces the warehouse at the end."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from pipelines.lib.lake import Lake
from pipelines.lib.warehouse.connection import connect
from tests.faults.harness import DEMO_SNAPSHOTS, run_ciem

READER = textwrap.dedent(
    """
    import sys, duckdb
    path = sys.argv[1]
    # a table of the warehouse (the history views read the lake's files, which readers share)
    query = "select count(*) from detection_timeline"
    con = duckdb.connect(path, read_only=True)  # as a BI tool's pool or the duckdb CLI does
    print("before", con.execute(query).fetchall(), flush=True)
    sys.stdin.readline()  # held open until the run is over
    print("held", con.execute(query).fetchall(), flush=True)
    con.close()
    con = duckdb.connect(path, read_only=True)
    print("reconnected", con.execute(query).fetchall(), flush=True)
    """
)


def test_a_run_completes_while_a_reader_holds_the_warehouse(tmp_path: Path) -> None:
    lake = tmp_path / "lake"
    first = DEMO_SNAPSHOTS / "2026-11-19"
    assert run_ciem(lake, snapshot=first, as_of="2026-11-19") == 0
    warehouse = lake / "warehouse" / "ciem.duckdb"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(warehouse)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout is not None and reader.stdin is not None
        before = reader.stdout.readline()
        assert run_ciem(lake) == 0  # as of 2026-11-20, while the reader holds the file
        reader.stdin.write("go\n")
        reader.stdin.flush()
        out, _ = reader.communicate(timeout=60)
    finally:
        reader.kill()
    with connect(Lake.at(lake), read_only=True) as con:
        now = con.execute("select count(*) from detection_timeline").fetchall()
    # the reader kept the warehouse it opened, then sees the new run once it reconnects
    assert before.startswith("before [(") and before != f"before {now}\n"
    assert out.splitlines() == [before.replace("before", "held").strip(), f"reconnected {now}"]
    assert sorted(p.name for p in warehouse.parent.iterdir() if p.is_file()) == ["ciem.duckdb"]
