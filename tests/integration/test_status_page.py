"""The public status page of a real engine, opened in headless Chromium at phone size: it renders, shows only
the checks its groups opt in (no URLs, no errors), and a screenshot is taken. The same page's HTML is
checked for the dark-mode styles and the viewport."""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import TYPE_CHECKING

import httpx
import pytest

from tests.integration.api_engine import create_key, pulsewatch, running_engine, wait_for
from tests.integration.servers import counting_server

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"


def chromium(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a fresh profile, the way the brief of this test asks for it."""
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--no-first-run",
        f"--user-data-dir={profile}",
        "--window-size=390,844",
        *args,
        url,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=True)


@pytest.mark.skipif(
    shutil.which(CHROMIUM) is None, reason="Debian's chromium is not installed (.ci/run installs it)"
)
def test_the_status_page_renders_on_a_phone(tmp_path: Path) -> None:
    with counting_server() as target:
        config = tmp_path / "pulsewatch.yaml"
        config.write_text(f"""
database: {{url: "sqlite:///status.db"}}
engine: {{name: status, listen: "127.0.0.1:0"}}
organizations: [{{slug: acme, name: Acme Inc}}, {{slug: hidden}}]
checks:
  - {{name: website, org: acme, url: "{target.base_url}/ok", interval: 1s, timeout: 1s}}
  - {{name: payments, org: acme, url: "{target.base_url}/fail", interval: 1s, timeout: 1s, tags: [public]}}
  - {{name: internal-db, org: acme, url: "{target.base_url}/ok?secret-host", interval: 1s, timeout: 1s}}
  - {{name: other, org: hidden, url: "{target.base_url}/ok", interval: 1s, timeout: 1s}}
status_pages:
  - org: acme
    title: Acme <Status>
    description: Live status of Acme's public services.
    groups:
      - {{name: Website, checks: [website]}}
      - {{name: Partner APIs, tags: [public]}}
""")
        pulsewatch(config, "config", "apply")
        key = create_key(config, "acme", "viewer")
        with running_engine(config) as engine, engine.client(key) as api:

            def both_judged() -> bool:
                states = {s["name"]: s["state"]["status"] for s in api.get("/api/v1/states").json()}
                return states.get("website") == "up" and states.get("payments") == "down"

            wait_for(both_judged, what="website up and payments down")
            url = f"{engine.base}/status/acme"
            wait_for(
                lambda: "Some systems are down" in httpx.get(url).text, what="the page to show the outage"
            )
            page = httpx.get(url)
            assert page.status_code == 200
            assert '<meta name=viewport content="width=device-width, initial-scale=1">' in page.text
            assert "@media (prefers-color-scheme: dark)" in page.text
            assert "Acme &lt;Status&gt;" in page.text  # escaped
            assert httpx.get(f"{engine.base}/status/hidden").status_code == 404
            assert httpx.get(f"{engine.base}/status/nope").status_code == 404

            dom = chromium(tmp_path, url, "--dump-dom").stdout
            for shown in (
                "Acme &lt;Status&gt;",
                "Website",
                "website",
                "Partner APIs",
                "payments",
                "Outage",
                "Operational",
                "Open incidents",
                "Some systems are down",
            ):
                assert shown in dom, shown
            for hidden in ("internal-db", "secret-host", target.base_url, "503", "other"):
                assert hidden not in dom, hidden
            assert len(re.findall(r'title="\d{4}-\d{2}-\d{2}: ', dom)) == 2 * 90  # 90 day bars per check

            shot = tmp_path / "status-phone.png"
            chromium(tmp_path, url, f"--screenshot={shot}")
            assert shot.exists()
            data = shot.read_bytes()
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            assert len(data) > 10_000  # a rendered page, not a blank canvas
            width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
            assert (width, height) == (390, 844)
