"""The headless engine's slimmer imports (pulsewatch.cli.import_diet) take nothing away that it uses.

Each test runs in a fresh interpreter: `slim_imports` changes what the whole process imports.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.storage.backends import MYSQL_URL


def run_slim(code: str) -> dict[str, object]:
    """Run `code` after `slim_imports()` in a new interpreter; it sets `out`, returned as JSON."""
    program = (
        "import json\nfrom pulsewatch.cli.import_diet import slim_imports\nslim_imports()\n"
        f"{code}\nprint(json.dumps(out))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_a_mysql_store_logs_in_and_then_loads_the_auth_module() -> None:
    out = run_slim(
        "import sys\n"
        "from engine.storage.store import open_store\n"
        "out = {'before': 'cryptography' in sys.modules}\n"
        f"store = open_store({MYSQL_URL!r})\n"
        "out['checks'] = len(store.load_checks())\n"
        "import pymysql.connections\n"
        "out['auth'] = pymysql.connections._auth.scramble_native_password.__name__\n"
        "out['after'] = 'cryptography' in sys.modules\n"
        "store.close()\n"
    )
    assert out["before"] is False
    assert isinstance(out["checks"], int)
    assert out["auth"] == "scramble_native_password"
    assert out["after"] is True  # the real module ran, with its optional cryptography support


def test_httpx_works_without_its_command_line_client() -> None:
    out = run_slim(
        "import sys, httpx\n"
        "client = httpx.Client(transport=httpx.MockTransport(lambda request: httpx.Response(204)))\n"
        "out = {'status': client.get('http://example.test/').status_code,\n"
        "       'rich': 'rich' in sys.modules, 'main': httpx.main.__module__}\n"
    )
    assert out == {"status": 204, "rich": False, "main": "httpx"}
