#!/usr/bin/python3
"""A browser client of the original system, replayed with python3's http.client.

usage: seed_client.py PORT TOKEN SCENARIO
SCENARIO: seed    the seed document's example requests, in order (pull, push
                  CUST_TEST_001, the newest_wins conflict, full sync,
                  resolve-conflict, status)
          errors  refused requests (no token, malformed JSON, wrong types,
                  oversized body, unknown collection, bad ids) -- the caller
                  checks that the store did not change
          replay  every example request of the seed document, sent as its curl
                  lines send them (login as admin/admin123 first, TOKEN unused),
                  each answer checked field by field against the shape the
                  document shows
          bulk    one push of 1000 records plus a bad one and a repeated key:
                  every good one applied in order, the bad one reported alone;
                  prints the push's wall time (informative, never checked)
Exits 0 when every check passed; prints what it did and, on failure, why.
"""
import datetime
import http.client
import json
import socket
import sys
import time

PORT = int(sys.argv[1])
TOKEN = sys.argv[2]
SCENARIO = sys.argv[3]
HOST = "127.0.0.1"
conn = None


USE_TOKEN = object()  # the default: the current TOKEN (replay replaces it with the login's)


def request(method, path, body=None, token=USE_TOKEN, raw=None, headers=None, fresh=False):
    """One request on a kept-alive connection (as a browser does)."""
    global conn
    if token is USE_TOKEN:
        token = TOKEN
    if conn is None or fresh:
        conn = http.client.HTTPConnection(HOST, PORT, timeout=20)
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    if headers:
        h.update(headers)
    data = raw if raw is not None else (json.dumps(body) if body is not None else None)
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    text = r.read()
    if r.getheader("Connection", "").lower() == "close":
        conn.close()
        conn = None
    ctype = r.getheader("Content-Type", "")
    doc = json.loads(text) if ctype.startswith("application/json") else text.decode()
    print(f"{method} {path} -> {r.status} {json.dumps(doc)[:400] if not isinstance(doc, str) else doc[:200]}")
    return r.status, doc


def check(cond, what):
    if not cond:
        print("FAILED: " + what)
        sys.exit(1)


def iso(dt):
    return dt.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def seed():
    # --- Test Pull Endpoint (the seed's example request and expected response)
    status, doc = request("POST", "/api/sync/pull",
                          {"deviceId": "test_device_123", "lastSyncTimestamp": "2025-01-01T00:00:00Z"})
    check(status == 200, "pull answers 200")
    check(doc["success"] is True, "pull success")
    check(doc["changes"] == {"customers": [], "orders": [], "payments": [], "projects": []},
          "an empty node shows the four collections, empty")
    check(isinstance(doc["timestamp"], str) and doc["timestamp"].endswith("Z"), "pull timestamp is ISO-8601")
    check(doc["conflicts"] == [] and doc["deviceId"] == "test_device_123", "conflicts [] and deviceId echoed")
    first_pull = doc["timestamp"]

    # --- Test Push Endpoint: CUST_TEST_001
    status, doc = request("POST", "/api/sync/push", {
        "deviceId": "test_device_123",
        "changes": {"customers": [{
            "customer_id": "CUST_TEST_001", "name": "Test Customer", "phone": "555-9999",
            "email": "test@example.com", "customer_type": "regular", "balance": 0,
            "updated_at": "2025-10-18T12:00:00Z"}]}})
    check(status == 200 and doc["success"] is True, "push success")
    check(len(doc["applied"]) == 1 and isinstance(doc["applied"][0]["entityId"], int)
          and {k: v for k, v in doc["applied"][0].items() if k != "entityId"}
          == {"entityType": "customers", "action": "CREATE", "uniqueId": "CUST_TEST_001"},
          "push applied CREATE of CUST_TEST_001 (entityId an integer, as in the seed)")
    check(doc["conflicts"] == [] and doc["errors"] == [], "push: no conflicts, no errors")
    status, doc = request("GET", "/v1/customers/CUST_TEST_001")
    check(status == 200, "the pushed record is stored")
    f = doc["record"]["fields"]
    check(f["name"] == "Test Customer" and f["balance"] == 0 and f["customer_id"] == "CUST_TEST_001",
          "fields stored with their JSON types")
    check("updated_at" not in f and "sync_status" not in f, "client bookkeeping fields are not stored")

    # Another device pulls it, with the id field and an ISO updated_at.
    status, doc = request("POST", "/api/sync/pull",
                          {"deviceId": "device_other", "lastSyncTimestamp": "2025-01-01T00:00:00Z"})
    got = doc["changes"]["customers"]
    check(len(got) == 1 and got[0]["customer_id"] == "CUST_TEST_001" and got[0]["phone"] == "555-9999",
          "another device pulls CUST_TEST_001")
    check(got[0]["updated_at"].endswith("Z"), "pulled records carry updated_at as ISO-8601")
    check(doc["hasMore"] is False and doc["cursor"] is None, "a small pull is complete")

    # A retried push of the same record is not a conflict.
    status, doc = request("POST", "/api/sync/push", {"deviceId": "test_device_123", "changes": {"customers": [
        {"customer_id": "CUST_TEST_001", "name": "Test Customer", "phone": "555-9999",
         "email": "test@example.com", "customer_type": "regular", "balance": 0,
         "updated_at": "2025-10-18T12:00:00Z", "sync_status": "UNSYNCED"}]}})
    check(doc["conflicts"] == [] and doc["applied"][0]["action"] == "UPDATE", "a retried push is not a conflict")

    # --- Conflict Resolution Example (newest_wins): same customer edited on device and server
    status, doc = request("PUT", "/v1/customers/CUST_001",
                          {"customer_id": "CUST_001", "name": "ABC Company", "phone": "555-0000"})
    check(status == 201, "server-side create of CUST_001")
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "test_device_123", "lastSyncTimestamp": first_pull})
    check([c["customer_id"] for c in doc["changes"]["customers"]] == ["CUST_001"],
          "the device pulls CUST_001 (its own push is not echoed)")
    seen_at = doc["timestamp"]
    # Server (meanwhile): another user edits the same customer.
    status, doc = request("PUT", "/v1/customers/CUST_001",
                          {"customer_id": "CUST_001", "name": "ABC Corporation", "phone": "555-5678"})
    check(status == 200, "server-side edit of CUST_001")
    # Device (offline) edited it earlier: its timestamp is older.
    status, doc = request("POST", "/api/sync/push", {"deviceId": "test_device_123", "changes": {"customers": [
        {"customer_id": "CUST_001", "name": "ABC Company", "phone": "555-1234",
         "updated_at": "2025-01-15T11:00:00Z"}]}})
    check(status == 200 and doc["applied"] == [], "the older device edit is not applied")
    check(len(doc["conflicts"]) == 1, "one conflict reported")
    c = doc["conflicts"][0]
    check(c["entityType"] == "customers" and c["uniqueId"] == "CUST_001" and isinstance(c["entityId"], int) and c["resolution"] == "newest_wins"
          and c["winner"] == "server", "conflict reported as in the seed: newest_wins, winner server")
    check(c["serverVersion"]["name"] == "ABC Corporation", "the conflict carries the winning server version")
    status, doc = request("GET", "/v1/customers/CUST_001")
    check(doc["record"]["fields"]["name"] == "ABC Corporation" and doc["record"]["fields"]["phone"] == "555-5678",
          "server version kept")
    # The device's next pull brings the winner back even though it is older than its last sync.
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "test_device_123", "lastSyncTimestamp": seen_at})
    check([c["name"] for c in doc["changes"]["customers"]] == ["ABC Corporation"],
          "the losing device receives the winner on its next pull")

    # A newer device edit wins under newest_wins.
    request("PUT", "/v1/customers/CUST_001", {"customer_id": "CUST_001", "name": "ABC Corp.", "phone": "555-5678"})
    future = iso(datetime.datetime.utcnow() + datetime.timedelta(hours=1))
    status, doc = request("POST", "/api/sync/push", {"deviceId": "test_device_123", "changes": {"customers": [
        {"customer_id": "CUST_001", "name": "ABC Ltd", "phone": "555-1111", "updated_at": future}]}})
    check(len(doc["conflicts"]) == 1 and doc["conflicts"][0]["winner"] == "client", "the newer device edit wins")
    check(doc["applied"][0]["action"] == "UPDATE", "and is applied")
    status, doc = request("GET", "/v1/customers/CUST_001")
    check(doc["record"]["fields"]["name"] == "ABC Ltd", "client version stored")

    # Partial success: one bad record, one good.
    status, doc = request("POST", "/api/sync/push", {"deviceId": "test_device_123", "changes": {
        "orders": [{"name": "no id"}, {"order_id": "ORD_1", "total": 12.5, "items": [{"sku": "A", "qty": 2}]}]}})
    check(status == 200 and doc["success"] is False, "partial success is not success")
    check(len(doc["errors"]) == 1 and doc["errors"][0]["index"] == 0 and "order_id" in doc["errors"][0]["error"],
          "the bad record is named in errors")
    check([(a["entityType"], a["uniqueId"], a["action"]) for a in doc["applied"]] == [("orders", "ORD_1", "CREATE")],
          "the good one is applied")

    # --- Full sync: push then pull
    status, doc = request("POST", "/api/sync/full", {
        "deviceId": "device_other", "lastSyncTimestamp": "2025-01-01T00:00:00Z",
        "changes": {"customers": [{"customer_id": "CUST_TEST_002", "name": "Second", "updated_at": iso(datetime.datetime.utcnow())}]}})
    check(status == 200 and doc["success"] is True, "full sync success")
    check(doc["applied"][0]["uniqueId"] == "CUST_TEST_002" and doc["applied"][0]["action"] == "CREATE", "full: pushed")
    ids = sorted(c["customer_id"] for c in doc["changes"]["customers"])
    check("CUST_001" in ids and "CUST_TEST_002" not in ids, "full: pulled the others, not its own push")
    check([o["order_id"] for o in doc["changes"]["orders"]] == ["ORD_1"] and doc["changes"]["orders"][0]["total"] == 12.5,
          "full: orders pulled with their values")
    check(set(["customers", "orders", "payments", "projects"]) <= set(doc["changes"]), "full: the four collections")

    # --- Resolve conflict
    request("PUT", "/v1/customers/CUST_001", {"customer_id": "CUST_001", "name": "Server Name", "phone": "1"})
    status, doc = request("POST", "/api/sync/push", {"deviceId": "test_device_123", "changes": {"customers": [
        {"customer_id": "CUST_001", "name": "Device Name", "phone": "2", "updated_at": "2025-01-01T00:00:00Z"}]}})
    check(doc["conflicts"][0]["winner"] == "server", "stale device edit loses")
    status, doc = request("POST", "/api/sync/resolve-conflict", {
        "deviceId": "test_device_123", "entityType": "customers", "entityId": "CUST_001",
        "resolution": "client", "data": {"customer_id": "CUST_001", "name": "Device Name", "phone": "2"}})
    check(status == 200 and doc["success"] is True, "resolve-conflict success")
    check(doc["resolved"]["record"]["name"] == "Device Name", "resolution wrote the chosen data")
    status, doc = request("GET", "/v1/customers/CUST_001")
    check(doc["record"]["fields"]["name"] == "Device Name", "resolved value stored")
    status, doc = request("POST", "/api/sync/resolve-conflict", {
        "deviceId": "test_device_123", "entityType": "customers", "uniqueId": "CUST_001", "resolution": "server"})
    check(status == 200 and doc["resolved"]["record"]["name"] == "Device Name", "resolution 'server' keeps the node's")
    status, doc = request("POST", "/api/sync/resolve-conflict", {
        "deviceId": "test_device_123", "entityType": "customers", "uniqueId": "CUST_404", "resolution": "server"})
    check(status == 404, "resolving an unknown record is 404")

    # --- Status
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "test_device_123", "lastSyncTimestamp": first_pull})
    status, doc = request("GET", "/api/sync/status/test_device_123")
    check(status == 200 and doc["success"] is True and doc["known"] is True, "status of a known device")
    check(doc["lastSyncTimestamp"] is not None and doc["pendingCount"] == 0, "just pulled: nothing pending")
    request("PUT", "/v1/payments/PAY_1", {"payment_id": "PAY_1", "amount": 10})
    status, doc = request("GET", "/api/sync/status/test_device_123")
    check(doc["pendingCount"] == 1 and doc["pendingByCollection"] == {"payments": 1}, "a new record is pending")
    status, doc = request("GET", "/api/sync/status/never_seen")
    check(doc["known"] is False and doc["lastSyncTimestamp"] is None and doc["pendingCount"] == 5
          and doc["pendingByCollection"] == {"customers": 3, "orders": 1, "payments": 1},
          "an unknown device has every live record pending")

    # Paging: at most `limit` records per response, continued with the cursor.
    for i in range(7):
        request("PUT", f"/v1/projects/PRJ_{i}", {"project_id": f"PRJ_{i}", "n": i})
    got, cursor, pages = [], None, 0
    while True:
        body = {"deviceId": "pager", "lastSyncTimestamp": "2025-01-01T00:00:00Z", "limit": 3}
        if cursor:
            body["cursor"] = cursor
        status, doc = request("POST", "/api/sync/pull", body)
        pages += 1
        got += [r for c in doc["changes"].values() for r in c]
        check(doc["count"] <= 3, "a page holds at most the limit")
        if not doc["hasMore"]:
            break
        cursor = doc["cursor"]
        check(pages < 20, "paging ends")
    check(len(got) == 12 and pages == 4 and len(set(r.get("project_id") or r.get("customer_id") or r.get("order_id") or r.get("payment_id") for r in got)) == 12, f"12 distinct records in 4 pages of 3 (got {len(got)} in {pages})")
    print("seed scenario: all checks passed")


def raw(data):
    s = socket.create_connection((HOST, PORT), timeout=20)
    s.sendall(data)
    out = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        out += chunk
    s.close()
    return out


def errors():
    pull = {"deviceId": "test_device_123", "lastSyncTimestamp": "2025-01-01T00:00:00Z"}
    status, doc = request("POST", "/api/sync/pull", pull, token=None)
    check(status == 401 and doc["success"] is False and "token" in doc["error"], "no token: 401 JSON error")
    status, doc = request("POST", "/api/sync/pull", pull, token="sst_" + "0" * 64)
    check(status == 401, "unknown token: 401")
    status, doc = request("GET", "/v1/customers/CUST_001", token=None)
    check(status == 401, "REST needs a token too")
    status, doc = request("POST", "/api/sync/push", raw='{"deviceId": "d", "changes": {')
    check(status == 400 and "malformed JSON" in doc["error"] and doc["code"] == "invalid_argument",
          "malformed JSON: 400 naming it")
    status, doc = request("POST", "/api/sync/push", raw="[" * 100000)
    check(status == 400 and "nested" in doc["error"], "deep nesting: 400")
    status, doc = request("POST", "/api/sync/push", {"deviceId": 42, "changes": {}})
    check(status == 400 and "deviceId" in doc["error"], "wrong type of deviceId: 400")
    status, doc = request("POST", "/api/sync/push", {"deviceId": "d", "changes": [1, 2]})
    check(status == 400 and "changes" in doc["error"], "changes not an object: 400")
    status, doc = request("POST", "/api/sync/push", {"deviceId": "d", "changes": {"customers": {"a": 1}}})
    check(status == 400 and "array" in doc["error"], "changes.customers not an array: 400")
    status, doc = request("POST", "/api/sync/push", {"deviceId": "d", "changes": {"Bad-Name": []}})
    check(status == 400, "bad collection name in a push: 400")
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "d", "lastSyncTimestamp": "yesterday"})
    check(status == 400 and "ISO-8601" in doc["error"], "bad timestamp: 400")
    big = json.dumps({"deviceId": "d", "changes": {"customers": [{"customer_id": "BIG", "blob": "x" * (9 << 20)}]}})
    status, doc = request("POST", "/api/sync/push", raw=big, fresh=True)
    check(status == 413 and doc["code"] == "body_too_large", "oversized body: 413")
    status, doc = request("GET", "/v1/nosuch/X", fresh=True)
    check(status == 404 and doc["code"] == "unknown_collection", "unknown collection: 404")
    status, doc = request("GET", "/v1/nosuch")
    check(status == 404, "listing an unknown collection: 404")
    status, doc = request("GET", "/v1/customers/" + "x" * 300)
    check(status == 400 and doc["code"] == "bad_id", "an id over 256 bytes: 400")
    status, doc = request("GET", "/v1/Bad-Name/X")
    check(status == 400 and doc["code"] == "bad_collection", "a bad collection name: 400")
    status, doc = request("PUT", "/v1/customers/C9", raw="{not json")
    check(status == 400, "PUT of malformed JSON: 400")
    status, doc = request("PUT", "/v1/customers/C9", raw="[1]")
    check(status == 400, "PUT of a non-object: 400")
    status, doc = request("DELETE", "/v1/customers/NOPE")
    check(status == 404, "DELETE of an unknown record: 404")
    status, doc = request("GET", "/v1/customers?limit=abc")
    check(status in (400, 404), "bad limit: 4xx")
    status, doc = request("POST", "/api/sync/status/d")
    check(status == 405, "wrong method: 405")
    status, doc = request("GET", "/nothing/here")
    check(status == 404, "unknown path: 404")
    out = raw(b"GARBAGE\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 400"), "garbage request line: 400")
    out = raw(b"POST /api/sync/pull HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 501"), "chunked body: 501")
    out = raw(b"GET /healthz HTTP/1.1\r\nHost: x\r\n" + b"X-Pad: " + b"a" * 20000 + b"\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 431"), "huge header: 431")
    out = raw(b"GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n")
    check(out.startswith(b"HTTP/1.1 505"), "HTTP/2.0 request line: 505")
    print("error scenario: all checks passed")


def bulk():
    records = [{"customer_id": "BULK_%04d" % i, "name": "Customer %d" % i, "n": i} for i in range(1000)]
    records.insert(500, {"name": "no id"})
    records.append({"customer_id": "BULK_0007", "name": "again", "n": 7})
    started = time.monotonic()
    status, doc = request("POST", "/api/sync/push", {"deviceId": "bulk_device", "changes": {"customers": records}})
    elapsed = time.monotonic() - started
    check(status == 200, "bulk push: 200")
    check(doc["success"] is False and len(doc["errors"]) == 1, "bulk push: exactly one error")
    check(doc["errors"][0]["index"] == 500 and doc["errors"][0]["code"] == "invalid_argument",
          "bulk push: the record without an id is reported alone, at its index")
    expected = [("BULK_%04d" % i, "CREATE") for i in range(1000)] + [("BULK_0007", "UPDATE")]
    check([(a["uniqueId"], a["action"]) for a in doc["applied"]] == expected,
          "bulk push: every good record applied, in order")
    check(doc["conflicts"] == [], "bulk push: no conflicts")
    status, doc = request("GET", "/v1/customers/BULK_0999")
    check(status == 200 and doc["record"]["fields"]["n"] == 999, "bulk push: the last record is stored")
    status, doc = request("GET", "/v1/customers/BULK_0007")
    check(status == 200 and doc["record"]["fields"]["name"] == "again", "bulk push: a repeated key takes its last value")
    # The device's own push is not echoed back to it.
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "bulk_device", "lastSyncTimestamp": None})
    check(status == 200, "bulk pull: 200")
    print("bulk push of %d records: %.3f s" % (len(records), elapsed))
    print("bulk scenario: all checks passed")


# ---- replay: the seed document's examples, only the base URL changed --------

INT = "<integer>"        # the seed shows a number (its database id)
ISO = "<ISO-8601 time>"  # the seed shows "2025-10-18T..."
LIST = "<array>"         # the seed shows [...]


def matches(actual, expected, path="$"):
    """Every field the seed shows is there with its type and value (the
    gateway may add fields of its own, such as hasMore)."""
    if expected is INT:
        check(isinstance(actual, int) and not isinstance(actual, bool), f"{path} is an integer (got {actual!r})")
    elif expected is ISO:
        check(isinstance(actual, str) and datetime.datetime.fromisoformat(actual.replace("Z", "+00:00")) is not None,
              f"{path} is an ISO-8601 time (got {actual!r})")
    elif expected is LIST:
        check(isinstance(actual, list), f"{path} is an array (got {actual!r})")
    elif isinstance(expected, dict):
        check(isinstance(actual, dict), f"{path} is an object (got {actual!r})")
        for k, v in expected.items():
            check(k in actual, f"{path}.{k} is present (got {sorted(actual)})")
            matches(actual[k], v, f"{path}.{k}")
    elif isinstance(expected, list):
        check(isinstance(actual, list) and len(actual) == len(expected),
              f"{path} has {len(expected)} elements (got {actual!r})")
        for i, (a, e) in enumerate(zip(actual, expected)):
            matches(a, e, f"{path}[{i}]")
    else:
        check(actual == expected and type(actual) == type(expected), f"{path} == {expected!r} (got {actual!r})")


def replay():
    global TOKEN
    # "Login first to get token": curl -X POST .../api/auth/login ... | jq -r '.token'
    status, doc = request("POST", "/api/auth/login", {"username": "admin", "password": "admin123"}, token=None)
    check(status == 200, "login answers 200")
    check(isinstance(doc.get("token"), str) and doc["token"], ".token is the token")
    TOKEN = doc["token"]

    # "Test Pull Endpoint" and its "Expected Response".
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "test_device_123", "lastSyncTimestamp": "2025-01-01T00:00:00Z"})
    check(status == 200, "pull: 200")
    matches(doc, {"success": True, "changes": {"customers": [], "orders": [], "payments": [], "projects": []},
                  "timestamp": ISO, "conflicts": [], "deviceId": "test_device_123"})

    # "Test Push Endpoint" and its "Expected Response".
    status, doc = request("POST", "/api/sync/push", {"deviceId": "test_device_123", "changes": {"customers": [{
        "customer_id": "CUST_TEST_001", "name": "Test Customer", "phone": "555-9999", "email": "test@example.com",
        "customer_type": "regular", "balance": 0, "updated_at": "2025-10-18T12:00:00Z"}]}})
    check(status == 200, "push: 200")
    matches(doc, {"success": True, "applied": [{"entityType": "customers", "entityId": INT, "action": "CREATE",
                                                "uniqueId": "CUST_TEST_001"}], "conflicts": [], "errors": []})

    # "3. Push Local Changes" and its "Backend response".
    status, doc = request("POST", "/api/sync/push", {"deviceId": "device_123", "changes": {"customers": [{
        "customer_id": "CUST_001", "name": "ABC Company", "updated_at": "2025-01-15T11:00:00Z",
        "sync_status": "UNSYNCED"}]}})
    matches(doc, {"success": True, "applied": [{"entityType": "customers", "entityId": INT, "action": "CREATE"}],
                  "conflicts": [], "errors": []})

    # "4. Pull Server Changes" and its "Backend response".
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "device_123", "lastSyncTimestamp": "2025-01-15T10:00:00Z"})
    matches(doc, {"success": True, "changes": {"customers": LIST, "orders": LIST, "payments": LIST, "projects": LIST},
                  "timestamp": ISO})
    # "5. Frontend Applies Changes": each pulled customer carries its shared id.
    for c in doc["changes"]["customers"]:
        check(isinstance(c.get("customer_id"), str) and "sync_status" not in c, "pulled customers: customer_id, no sync_status")

    # "Test Full Sync" (its "changes" shows [...]: sent as an empty list).
    status, doc = request("POST", "/api/sync/full", {"deviceId": "test_device_123",
                                                     "lastSyncTimestamp": "2025-01-01T00:00:00Z", "changes": {"customers": []}})
    check(status == 200, "full: 200")
    matches(doc, {"success": True, "changes": {"customers": LIST, "orders": LIST, "payments": LIST, "projects": LIST},
                  "timestamp": ISO, "applied": [], "conflicts": [], "errors": []})
    check(sorted(c["customer_id"] for c in doc["changes"]["customers"]) == ["CUST_001"],
          "full: the device gets CUST_001, not its own CUST_TEST_001 back")

    # "Conflict Resolution Example": the server's user edits CUST_001 at
    # 11:30 while device_123, offline, edited it at 11:00; newest_wins keeps
    # the server's version and logs the conflict as the seed shows.
    request("POST", "/api/sync/pull", {"deviceId": "server_user", "lastSyncTimestamp": None})
    status, doc = request("POST", "/api/sync/push", {"deviceId": "server_user", "changes": {"customers": [{
        "customer_id": "CUST_001", "name": "ABC Corporation", "phone": "555-5678", "updated_at": "2025-01-15T11:30:00Z"}]}})
    check(doc["conflicts"] == [], "the server-side edit is no conflict")
    status, doc = request("POST", "/api/sync/push", {"deviceId": "device_123", "changes": {"customers": [{
        "customer_id": "CUST_001", "name": "ABC Company", "phone": "555-1234", "updated_at": "2025-01-15T11:00:00Z"}]}})
    check(status == 200, "the device's push: 200")
    matches(doc["conflicts"], [{"entityType": "customers", "entityId": INT, "resolution": "newest_wins", "winner": "server"}])
    status, doc = request("POST", "/api/sync/pull", {"deviceId": "device_123", "lastSyncTimestamp": "2025-01-15T10:00:00Z"})
    got = [c for c in doc["changes"]["customers"] if c["customer_id"] == "CUST_001"]
    check(len(got) == 1, "the device pulls the winner")
    matches(got[0], {"customer_id": "CUST_001", "name": "ABC Corporation", "phone": "555-5678", "updated_at": ISO})

    # "GET /api/sync/status/:deviceId".
    status, doc = request("GET", "/api/sync/status/test_device_123")
    check(status == 200 and doc["success"] is True and doc["deviceId"] == "test_device_123", "status of the device")
    print("replay scenario: all checks passed")


if SCENARIO == "seed":
    seed()
elif SCENARIO == "replay":
    replay()
elif SCENARIO == "errors":
    errors()
elif SCENARIO == "bulk":
    bulk()
else:
    print("unknown scenario " + SCENARIO)
    sys.exit(2)
