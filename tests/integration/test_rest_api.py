"""The REST API of a real headless engine (`pulsewatch engine`, listen 127.0.0.1:0) driven over HTTP with keys
from `pulsewatch apikey create`: auth and tenancy, checks owned by the YAML or by the API, incidents,
silences, channels, reports, the audit log, rate limits."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.alert_receivers import JsonReceiver, serving
from tests.integration.api_engine import RunningEngine, create_key, pulsewatch, running_engine, wait_for
from tests.integration.servers import counting_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import httpx

    from tests.integration.servers import CountingServer

pytestmark = pytest.mark.slow


def write_config(folder: Path, target: str, hook: str, *, api: str = "{rate: 1000, burst: 1000}") -> Path:
    path = folder / "pulsewatch.yaml"
    path.write_text(f"""
database:
  url: sqlite:///api.db
engine:
  name: api-engine
  listen: 127.0.0.1:0
api: {api}
channels:
  - name: ops
    urls: ["{hook}"]
organizations:
  - slug: acme
    name: Acme Inc
    teams: [{{name: web}}]
  - slug: globex
checks:
  - name: web
    org: acme
    team: web
    url: {target}/ok
    interval: 1s
    timeout: 1s
    tags: [public]
  - name: broken
    org: acme
    url: {target}/fail
    interval: 1s
    timeout: 1s
  - name: gx
    org: globex
    url: {target}/ok
    interval: 1s
    timeout: 1s
maintenance:
  - name: db-upgrade
    org: acme
    start: 2030-01-01T02:00:00Z
    end: 2030-01-01T03:00:00Z
""")
    pulsewatch(path, "config", "apply")
    return path


@pytest.fixture(scope="module")
def target() -> Iterator[CountingServer]:
    with counting_server() as server:
        yield server


@pytest.fixture(scope="module")
def receiver() -> Iterator[JsonReceiver]:
    with serving(JsonReceiver()) as server:
        yield server


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, target: CountingServer, receiver: JsonReceiver
) -> Iterator[tuple[RunningEngine, dict[str, str]]]:
    config = write_config(tmp_path_factory.mktemp("api"), target.base_url, receiver.url)
    keys = {
        "admin": create_key(config, "acme", "admin", "ci"),
        "member": create_key(config, "acme", "member"),
        "viewer": create_key(config, "acme", "viewer"),
        "globex": create_key(config, "globex", "owner"),
    }
    with running_engine(config) as engine:
        yield engine, keys


def ids(client: httpx.Client) -> dict[str, int]:
    return {c["name"]: c["id"] for c in client.get("/api/v1/checks", params={"limit": 500}).json()["items"]}


class TestAuth:
    def test_no_key_unknown_key_and_revoked_key_get_401(
        self, world: tuple[RunningEngine, dict[str, str]]
    ) -> None:
        engine, _ = world
        with engine.client() as anonymous, engine.client("pwk_" + "x" * 43) as unknown:
            for response in (anonymous.get("/api/v1/checks"), unknown.get("/api/v1/checks")):
                assert response.status_code == 401
                assert response.headers["www-authenticate"].startswith("Bearer")
        config = engine.log.parent / "pulsewatch.yaml"
        doomed = create_key(config, "acme", "viewer", "doomed")
        with engine.client(doomed) as client:
            assert client.get("/api/v1/me").json()["role"] == "viewer"
            listed = pulsewatch(config, "apikey", "list", "--org", "acme", "--json").stdout
            key_id = next(k["id"] for k in json.loads(listed) if k["name"] == "doomed")
            assert doomed not in listed  # never shown again
            pulsewatch(config, "apikey", "revoke", str(key_id))
            refused = client.get("/api/v1/me")
            assert (refused.status_code, refused.json()["detail"]) == (401, "unknown or revoked API key")

    def test_a_role_without_the_permission_gets_403_naming_it(
        self, world: tuple[RunningEngine, dict[str, str]]
    ) -> None:
        engine, keys = world
        with engine.client(keys["viewer"]) as viewer:
            refused = viewer.post("/api/v1/checks", json={"name": "nope", "url": "https://example.com"})
            assert refused.status_code == 403
            assert refused.json()["permission"] == "create checks"
            assert "viewer in organization acme and may not create checks" in refused.json()["detail"]
            assert viewer.get("/api/v1/audit").json()["permission"] == "view the audit log"
            assert viewer.get("/api/v1/checks").status_code == 200

    def test_another_organizations_objects_are_not_found(
        self, world: tuple[RunningEngine, dict[str, str]]
    ) -> None:
        engine, keys = world
        with engine.client(keys["admin"]) as acme, engine.client(keys["globex"]) as globex:
            acme_ids, globex_ids = ids(acme), ids(globex)
            assert set(acme_ids) >= {"web", "broken"}
            assert "gx" not in acme_ids
            assert set(globex_ids) == {"gx"}
            for path in ("", "/results", "/flips"):
                assert acme.get(f"/api/v1/checks/{globex_ids['gx']}{path}").status_code == 404
            assert acme.post(f"/api/v1/checks/{globex_ids['gx']}/pause").status_code == 404
            assert globex.get(f"/api/v1/checks/{acme_ids['web']}").status_code == 404

    def test_rate_limit_answers_429_with_retry_after(self, tmp_path: Path, target: CountingServer) -> None:
        config = write_config(
            tmp_path, target.base_url, "json://127.0.0.1:9/hook", api="{rate: 0.5, burst: 3}"
        )
        key = create_key(config, "acme", "viewer")
        with running_engine(config) as engine, engine.client(key) as client:
            codes = [client.get("/api/v1/me").status_code for _ in range(4)]
            assert codes == [200, 200, 200, 429]
            limited = client.get("/api/v1/me")
            assert limited.status_code == 429
            assert int(limited.headers["retry-after"]) >= 1
            assert "rate limit" in limited.json()["detail"]


class TestChecks:
    def test_yaml_checks_are_read_only_but_can_be_paused(
        self, world: tuple[RunningEngine, dict[str, str]]
    ) -> None:
        engine, keys = world
        with engine.client(keys["admin"]) as client:
            web = ids(client)["web"]
            for response in (
                client.patch(f"/api/v1/checks/{web}", json={"interval_s": 5}),
                client.delete(f"/api/v1/checks/{web}"),
            ):
                assert response.status_code == 409
                assert "declared in the configuration file" in response.json()["detail"]
            paused = client.post(f"/api/v1/checks/{web}/pause").json()
            assert (paused["paused"], paused["state"]["status"]) == (True, "paused")
            resumed = client.post(f"/api/v1/checks/{web}/resume").json()
            assert resumed["state"]["status"] == "unknown"
            wait_for(
                lambda: client.get(f"/api/v1/checks/{web}").json()["state"]["status"] == "up", what="web up"
            )

    def test_an_api_check_is_probed_kept_by_config_apply_changed_and_deleted(
        self, world: tuple[RunningEngine, dict[str, str]], target: CountingServer
    ) -> None:
        engine, keys = world
        config = engine.log.parent / "pulsewatch.yaml"
        with engine.client(keys["member"]) as client, engine.client(keys["admin"]) as admin:
            created = client.post(
                "/api/v1/checks",
                json={
                    "name": "from-api",
                    "url": f"{target.base_url}/ok?api",
                    "interval_s": 1,
                    "timeout_s": 1,
                    "tags": ["api", "public"],
                    "conditions": ["[STATUS] == 200"],
                    "team": "web",
                },
            )
            assert created.status_code == 201, created.text
            check = created.json()
            assert (check["origin"], check["kind"], check["state"]["status"]) == ("api", "http", "unknown")
            url = f"/api/v1/checks/{check['id']}"
            wait_for(lambda: client.get(url).json()["state"]["status"] == "up", what="the API check probed")
            assert target.served["/ok?api"] >= 1

            plan = pulsewatch(config, "config", "apply").stdout
            assert "from-api" not in plan
            assert "no changes" in plan
            assert client.get(url).status_code == 200

            taken = client.post("/api/v1/checks", json={"name": "from-api", "url": "https://example.com"})
            assert taken.status_code == 409

            changed = client.patch(url, json={"url": f"{target.base_url}/fail", "interval_s": 2})
            assert changed.status_code == 200, changed.text
            assert changed.json()["interval_s"] == 2
            wait_for(
                lambda: client.get(url).json()["state"]["status"] == "down", what="the changed check down"
            )

            assert client.delete(url).json()["permission"] == "delete checks"  # members may not delete
            assert admin.delete(url).status_code == 204
            assert client.get(url).status_code == 404
            audit = [
                (e["action"], e["actor"])
                for e in admin.get("/api/v1/audit").json()
                if e["target"] == "acme/from-api"
            ]
            assert [a for a, _ in audit] == ["check.delete", "check.update", "check.create"]
            assert audit[0][1].startswith("apikey:")
            assert audit[0][1].endswith("(ci)")

    def test_invalid_input_lists_every_field_error_and_changes_nothing(
        self, world: tuple[RunningEngine, dict[str, str]]
    ) -> None:
        engine, keys = world
        with engine.client(keys["admin"]) as client:
            before = len(client.get("/api/v1/audit").json())
            refused = client.post(
                "/api/v1/checks",
                json={
                    "name": " padded",
                    "url": "ftp://files.example.com",
                    "interval_s": 0,
                    "conditions": ["[STATUS] == 200", "[STATUS] =="],
                    "surprise": 1,
                },
            )
            assert refused.status_code == 422
            where = {tuple(e["loc"]) for e in refused.json()["errors"]}
            assert where == {
                ("body", "name"),
                ("body", "url"),
                ("body", "interval_s"),
                ("body", "conditions", 1),
                ("body", "surprise"),
            }
            assert refused.json()["detail"] == "invalid request: 5 problems"
            across = client.post(
                "/api/v1/checks",
                json={"name": "tcp-status", "url": "tcp://127.0.0.1:9", "conditions": ["[STATUS] == 200"]},
            )
            assert across.status_code == 422
            assert "[STATUS] placeholder" in across.text
            no_team = client.post(
                "/api/v1/checks", json={"name": "x", "url": "https://example.com", "team": "ops"}
            )
            assert no_team.status_code == 422
            assert no_team.json()["errors"][0]["loc"] == ["body", "team"]
            assert client.get("/api/v1/checks", params={"cursor": "%%%"}).status_code == 422
            assert len(client.get("/api/v1/audit").json()) == before  # nothing was written

    def test_filters_and_pagination(self, world: tuple[RunningEngine, dict[str, str]]) -> None:
        engine, keys = world
        with engine.client(keys["admin"]) as client:
            for n in range(7):
                assert (
                    client.post(
                        "/api/v1/checks",
                        json={
                            "name": f"page-{n}",
                            "url": f"https://page-{n}.example.com",
                            "tags": ["paged"],
                            "paused": True,
                        },
                    ).status_code
                    == 201
                )
            seen, cursor = [], None
            while True:
                params: dict[str, Any] = {
                    "tag": "paged",
                    "limit": 3,
                    **({"cursor": cursor} if cursor else {}),
                }
                page = client.get("/api/v1/checks", params=params).json()
                seen += [c["name"] for c in page["items"]]
                cursor = page["next_cursor"]
                if cursor is None:
                    break
            assert seen == [f"page-{n}" for n in range(7)]
            third = client.get("/api/v1/checks", params={"tag": "paged", "limit": 3, "page": 3}).json()
            assert [c["name"] for c in third["items"]] == ["page-6"]
            assert third["page"] == 3
            paused = client.get("/api/v1/checks", params={"status": "paused", "q": "PAGE-"}).json()["items"]
            assert len(paused) == 7
            team = client.get("/api/v1/checks", params={"team": "web"}).json()["items"]
            assert [c["name"] for c in team] == ["web"]
            both = client.get("/api/v1/checks", params={"cursor": "eA", "page": 1})
            assert both.status_code == 422


class TestOperations:
    def test_run_now_results_flips_and_states(self, world: tuple[RunningEngine, dict[str, str]]) -> None:
        engine, keys = world
        with engine.client(keys["member"]) as client:
            broken = ids(client)["broken"]
            assert client.post(f"/api/v1/checks/{broken}/run").status_code == 202
            results = wait_for(lambda: client.get(f"/api/v1/checks/{broken}/results").json(), what="results")
            assert (results[0]["ok"], results[0]["status_code"]) == (False, 503)
            flips = wait_for(lambda: client.get(f"/api/v1/checks/{broken}/flips").json(), what="flips")
            assert flips[-1]["new"] == "down"
            states = {s["name"]: s["state"]["status"] for s in client.get("/api/v1/states").json()}
            assert states["broken"] == "down"
            assert any(f["check_id"] == broken for f in client.get("/api/v1/flips").json())

    def test_incidents_ack_note_resolve(self, world: tuple[RunningEngine, dict[str, str]]) -> None:
        engine, keys = world
        with engine.client(keys["member"]) as client, engine.client(keys["viewer"]) as viewer:

            def open_broken() -> list[dict[str, Any]]:
                items = client.get("/api/v1/incidents", params={"status": "open"}).json()["items"]
                return [i for i in items if i["check_name"] == "broken"]

            incident = wait_for(open_broken, what="an incident for broken")[0]
            url = f"/api/v1/incidents/{incident['id']}"
            assert viewer.post(f"{url}/ack").json()["permission"] == "acknowledge or resolve incidents"
            acked = client.post(f"{url}/ack", json={"note": "looking"}).json()
            assert (acked["status"], acked["ack_note"]) == ("acknowledged", "looking")
            assert client.post(f"{url}/notes", json={"text": "restarting"}).status_code == 201
            assert client.post(f"{url}/notes", json={"text": " "}).status_code == 422
            assert client.post(f"{url}/resolve").json()["status"] == "resolved"
            assert client.post(f"{url}/ack").status_code == 409
            detail = client.get(url).json()
            people = {"opened", "acknowledged", "note", "resolved"}
            kinds = [t["kind"] for t in detail["timeline"] if t["kind"] in people]
            assert kinds == ["opened", "acknowledged", "note", "resolved"]
        with engine.client(keys["globex"]) as globex:
            assert globex.get(url).status_code == 404

    def test_silences_maintenance_channels_reports_and_me(
        self, world: tuple[RunningEngine, dict[str, str]], receiver: JsonReceiver
    ) -> None:
        engine, keys = world
        with engine.client(keys["admin"]) as client:
            silence = client.post(
                "/api/v1/silences", json={"tag": "public", "duration_s": 3600, "reason": "deploy"}
            )
            assert silence.status_code == 201, silence.text
            assert (
                client.post(
                    "/api/v1/silences", json={"check": "nope", "duration_s": 60, "reason": "x"}
                ).status_code
                == 422
            )
            listed = client.get("/api/v1/silences").json()
            assert [s["scope"]["tags"] for s in listed] == [["public"]]
            ended = client.delete(f"/api/v1/silences/{silence.json()['id']}").json()
            assert ended["active"] is False
            windows = client.get("/api/v1/maintenance").json()
            assert [(w["name"], w["active"]) for w in windows] == [("db-upgrade", False)]
            channels = client.get("/api/v1/channels").json()
            assert channels[0]["masked_urls"] == [
                "json://127.0.0.1:" + receiver.url.split(":")[2].split("/")[0] + "/***"
            ]
            sent = client.post("/api/v1/channels/ops/test").json()
            assert sent["sent"] is True
            assert wait_for(lambda: "PulseWatch test: ops" in receiver.titles(), what="the test message")
            assert client.post("/api/v1/channels/nope/test").status_code == 404
            uptime = {r["check"]: r for r in client.get("/api/v1/reports/uptime", params={"hours": 1}).json()}
            assert uptime["web"]["probes"] >= 1
            assert "gx" not in uptime
            sla = client.get("/api/v1/reports/sla", params={"hours": 1, "target": 99.5}).json()
            assert {r["target_pct"] for r in sla} == {99.5}
            me = client.get("/api/v1/me").json()
            assert (me["org"], me["role"], "manage API keys" in me["permissions"]) == ("acme", "admin", True)
