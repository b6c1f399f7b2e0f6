"""Helpers of scripts/schemathesis.sh, run with its private venv's Python.

fresh-database URL NAME        drop and create the scratch database; print its URL
seed BASE                      create real objects through the API; print the schemathesis config
                               that names them in the path parameters
cleanup URL NAME NATS STREAM   drop the scratch database and delete the run's NATS streams
"""

import asyncio
import json
import sys
import urllib.error
import urllib.request
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql


def with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + name, parts.query, parts.fragment))


def admin_connection(url: str) -> psycopg.Connection:
    return psycopg.connect(with_database(url, "postgres"), autocommit=True)


def drop(url: str, name: str) -> None:
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def fresh_database(url: str, name: str) -> None:
    drop(url, name)
    with admin_connection(url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(with_database(url, name))


async def delete_streams(nats_url: str, stream: str) -> None:
    import nats

    nc = await nats.connect(nats_url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if info.config.name.startswith(stream):
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()


def cleanup(url: str, name: str, nats_url: str, stream: str) -> None:
    try:
        drop(url, name)
    finally:
        asyncio.run(asyncio.wait_for(delete_streams(nats_url, stream), 15))


def call(base: str, method: str, path: str, body=None, content_type="application/json", expect=(200, 201, 202)):
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, payload = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    if status not in expect:
        raise SystemExit(f"seeding: {method} {path} answered {status}: {payload[:300]!r}")
    return json.loads(payload) if payload else None


def upload(base: str, opportunity: str, filename: str, text: str) -> dict:
    boundary = "schemathesis-seed-" + uuid.uuid4().hex
    body = (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{filename}\"\r\n"
        f"Content-Type: text/plain\r\n\r\n{text}\r\n--{boundary}--\r\n"
    ).encode()
    return call(base, "POST", f"/api/opportunities/{opportunity}/files", body,
                f"multipart/form-data; boundary={boundary}")


BRIEF = """Brief: relaunch the Fjordline ferry brand across Norway and Denmark.
Deliverables: 12 social statics, 4 campaign videos of 30 seconds, 20 display banners (medium).
Budget 1.2M NOK. Deadline: the spring equinox. Markets: NO, DK.
"""


def toml_string(value: str) -> str:
    return json.dumps(value)


def seed(base: str) -> None:
    def opportunity(name: str) -> str:
        return call(base, "POST", "/api/opportunities", {"name": name, "client_name": "Fjordline"})["id"]

    main = opportunity("Schemathesis target")
    # Archiving routes get their own opportunity, so archiving it early does not turn every other
    # operation's answers into 409s.
    doomed = opportunity("Schemathesis archive target")
    file = upload(base, main, "brief.txt", BRIEF)["id"]
    asset = call(base, "POST", f"/api/opportunities/{main}/assets",
                 {"raw_name": "Display banner", "volume": 4})["id"]
    clarification = call(base, "POST", f"/api/opportunities/{main}/clarifications",
                         {"category": "Scope", "question": "How many markets?"})["id"]
    # Someone other than the dev identity, who requests it and owns the opportunity (four eyes).
    approval = call(base, "POST", f"/api/opportunities/{main}/stages/3/approvals",
                    {"role": "commercial", "approver_email": "approver@schemathesis.test"})["id"]
    run = call(base, "POST", f"/api/opportunities/{main}/intake")["run_id"]
    notifications = call(base, "GET", "/api/notifications")
    notification = notifications[0]["id"] if notifications else str(uuid.uuid4())
    catalog = call(base, "GET", "/api/catalog?limit=1")
    catalog_id = catalog[0]["catalog_id"] if isinstance(catalog, list) and catalog else "GMAL-DIS-001"

    with open("openapi/openapi.json") as f:
        paths = json.load(f)["paths"]
    print("# Generated by scripts/schemathesis_support.py seed: the real ids of the seeded objects.")
    for path, item in sorted(paths.items()):
        for method in sorted(m for m in item if m in ("get", "post", "put", "patch", "delete")):
            names = [p["name"] for p in item[method].get("parameters", []) if p.get("in") == "path"]
            values = {}
            for name in names:
                if name == "id" and path.startswith("/api/opportunities/"):
                    archives = (method == "delete" and path == "/api/opportunities/{id}") or path.endswith("/archive")
                    values[name] = doomed if archives else main
                elif name == "id" and path.startswith("/api/approvals/"):
                    values[name] = approval
                elif name == "id" and path.startswith("/api/notifications/"):
                    values[name] = notification
                elif name == "id" and path.startswith("/api/agent-runs/"):
                    values[name] = run
                elif name in {"file_id", "asset_id", "cid", "approval_id", "catalog_id"}:
                    values[name] = {"file_id": file, "asset_id": asset, "cid": clarification,
                                    "approval_id": approval, "catalog_id": catalog_id}[name]
            if not values:
                continue
            print("\n[[operations]]")
            # One exact operation ("METHOD /path"); separate include-path and include-method
            # filters would match either.
            print(f"include-name = {toml_string(method.upper() + ' ' + path)}")
            pairs = ", ".join(f"{toml_string('path.' + k)} = {toml_string(v)}" for k, v in values.items())
            print(f"parameters = {{ {pairs} }}")


def main(argv: list[str]) -> None:
    command, args = argv[1], argv[2:]
    if command == "fresh-database":
        fresh_database(*args)
    elif command == "seed":
        seed(*args)
    elif command == "cleanup":
        cleanup(*args)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
