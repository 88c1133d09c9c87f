"""The general broker end to end: vendors imported from a CSV with ``wastream vendors
import`` (real broker), found from a Kinyarwanda request through the real ingress and
worker; the request reaches the vendor, Accept links both; the read models and
``agent_sessions`` rows say what happened."""

from __future__ import annotations

from pathlib import Path

from tests.domains.test_parrot_e2e import said, users
from wastream.driver import options, render

U, V1, V2 = "250788610001", "250788610002", "250788610003"
CSV = ("name,wa_id,categories,lat,lon\n"
       f"Amazi Fix,{V1},plumber,-1.950,30.100\n"
       "Broken,12,plumber,-1.95,30.1\n"
       f"Pipe Pro,{V2},plumber;mason,-1.975,30.100\n")


async def test_imported_vendors_are_found_from_a_kinyarwanda_request(  # type: ignore[no-untyped-def]
        system, tmp_path: Path) -> None:
    system.env_overrides.update({"WASTREAM_TIMER_TICK_S": "0.3"})
    system.migrate()
    system.start_ingress()
    worker = system.start_worker()
    system.start_projector()
    f = tmp_path / "vendors.csv"
    f.write_text(CSV)
    refused = tmp_path / "bad.csv"
    refused.write_text("name,wa_id,categories\nX,250788610009,plumber\n")
    r = system.cli("vendors", "import", str(refused), check=False)
    assert r.returncode == 2
    assert "lat, lon" in r.stderr
    r = system.cli("vendors", "import", str(f), check=False)
    assert r.returncode == 1, r.stderr
    assert "line 3" in r.stderr
    assert system.cli("vendors", "import", str(f), check=False).returncode == 1  # again
    rows = await system.wait_rows("SELECT name FROM wa_domain_events "
                                  "WHERE name = 'VendorRegistered'", 2)
    assert len(rows) == 2, worker.tail()

    async with users(system, U, V2) as (u, v2):
        await u.text("muraho")
        assert await u.replies(min_count=1, timeout_s=60), worker.tail()
        await u.pick("menu:broker")
        await said(u)
        await u.text("ndashaka umufundi w'amazi i Kicukiro")
        listed = (await said(u))[0]
        assert listed.index("Pipe Pro") < listed.index("Amazi Fix"), listed
        assert "km" in listed
        await u.pick(f"vendor:{V2}")
        assert "Pipe Pro" in (await said(u))[0]
        asked = await v2.replies(min_count=1, timeout_s=30)
        assert "ndashaka umufundi w'amazi i Kicukiro" in render(asked[0].body)
        accept = options(asked[0].body)[0][0]
        assert accept.startswith("broker:accept:")
        await v2.pick(accept)
        assert f"https://wa.me/{U}" in (await said(v2))[0]
        assert f"https://wa.me/{V2}" in (await said(u))[0]

    sessions = await system.wait_rows(
        "SELECT turns, understood->>'category' AS cat, understood->>'place' AS place, "
        "backend, outcome FROM agent_sessions WHERE flow = 'general_broker' "
        "AND outcome = 'connected'", 1)
    assert [dict(s) for s in sessions] == [
        {"turns": 1, "cat": "plumber", "place": "Kicukiro", "backend": "rules",
         "outcome": "connected"}], worker.tail()
