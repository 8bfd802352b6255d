#!/usr/bin/python3
"""Drives the web console and web/shopsync.js in headless chromium.

usage: console_browser.py PORT_A TOKEN_A PORT_B TOKEN_B SCREENSHOT_DIR

Node A serves the console; node B is its peer (a write is made there through
B's REST endpoint). The caller (console_browser_test.cc) made customer C-1001
conflicted under `manual` and checks both nodes afterwards. One browser
session for every step; every wait is bounded. Loopback only. Exits 0 when
every check passed; prints each step and, on failure, why.
"""
import json
import os
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

PORT_A, TOKEN_A, PORT_B, TOKEN_B, SHOTS = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
BASE = f"http://127.0.0.1:{PORT_A}"
WAIT_S = 15


def rest(port, token, method, path, body=None):
    """One request to a node's gateway, as an application would send it."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def step(text):
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


def shot(driver, name):
    path = os.path.join(SHOTS, name + ".png")
    driver.save_screenshot(path)
    step(f"screenshot {path}")


def until(driver, condition, what):
    try:
        return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out waiting for {what}")


def visible(driver, css, what=None):
    return until(driver, EC.visibility_of_element_located((By.CSS_SELECTOR, css)), what or css)


def click(driver, css):
    """Clicks `css`, found again if the page re-rendered it (it refreshes itself)."""
    for _ in range(20):
        try:
            visible(driver, css).click()
            return
        except StaleElementReferenceException:
            time.sleep(0.05)
    raise AssertionError(f"{css} kept being replaced")


def poll(check, what, seconds=WAIT_S):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--window-size=1280,800", "--no-first-run", "--disable-extensions",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-default-apps", "--metrics-recording-only", "--no-default-browser-check",
                 "--disable-features=Translate,OptimizationHints,MediaRouter"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def sign_in(d):
    d.get(BASE + "/")
    visible(d, "#token", "the sign-in form")
    shot(d, "1-sign-in")
    d.find_element(By.ID, "token").send_keys("sst_" + "0" * 64 + Keys.ENTER)
    err = visible(d, "#login-error", "the refusal of a wrong token")
    assert "not valid" in err.text, err.text
    box = d.find_element(By.ID, "token")
    box.clear()
    box.send_keys(TOKEN_A + Keys.ENTER)
    visible(d, "#peers", "the peers table")
    step("signed in")


def overview(d):
    until(d, lambda d: "connected" in d.find_element(By.CSS_SELECTOR, "#peers tr[data-peer='shop-b']").text,
          "shop-b shown connected")
    row = d.find_element(By.CSS_SELECTOR, "#peers tr[data-peer='shop-b']").text
    step("peer row: " + row.replace("\n", " | "))
    assert "in step" in row or "idle" in row or "of ~" in row, row
    shot(d, "2-nodes")


def watch_remote_write(d):
    # Records view by keyboard: "3".
    d.find_element(By.TAG_NAME, "body").send_keys("3")
    click(d, "#collection-list li[data-collection='customers']")
    visible(d, "#record-table tr[data-id='C-1002']", "the records of customers")
    status, _ = rest(PORT_B, TOKEN_B, "PUT", "/v1/customers/C-1003",
                     {"customer_id": "C-1003", "name": "Grace Hopper", "phone": "555-0106", "balance": 42})
    assert status == 201, status
    step("wrote customers/C-1003 at shop-b; waiting for it in shop-a's console")
    row = visible(d, "#record-table tr[data-id='C-1003']", "the write made at shop-b")
    assert "Grace Hopper" in row.text, row.text
    shot(d, "3-records")


def resolve_conflict(d):
    d.find_element(By.TAG_NAME, "body").send_keys("2")
    table = visible(d, "#versions", "the conflict's versions")
    header = table.find_element(By.TAG_NAME, "thead").text
    assert "VERSION 1" in header.upper() and "VERSION 2" in header.upper(), header
    shot(d, "4-conflict")
    # Field by field: the phone from whichever version holds shop-b's number,
    # the name typed in.
    phone_row = [r for r in table.find_elements(By.CSS_SELECTOR, "tbody tr")
                 if r.find_element(By.CSS_SELECTOR, "td.field").text == "phone"][0]
    cells = phone_row.find_elements(By.CSS_SELECTOR, "td")[1:-1]
    index = [c.text for c in cells].index("555-0199")
    assert "differs" in cells[index].get_attribute("class")
    phone_row.find_elements(By.CSS_SELECTOR, ".choices button")[index].click()
    name = d.find_element(By.CSS_SELECTOR, "input[data-field='name']")
    name.clear()
    name.send_keys("Ada Lovelace-King")
    shot(d, "5-conflict-merge")
    d.find_element(By.ID, "save-merge").click()
    visible(d, "#no-conflicts", "the conflict list to empty")
    step("merge saved")
    for port, token, node in ((PORT_A, TOKEN_A, "shop-a"), (PORT_B, TOKEN_B, "shop-b")):
        def merged():
            status, doc = rest(port, token, "GET", "/v1/customers/C-1001")
            r = doc.get("record", {})
            return status == 200 and not r.get("conflicted") and r["fields"].get("name") == "Ada Lovelace-King" \
                and r["fields"].get("phone") == "555-0199"
        poll(merged, f"the merge at {node}")
        step(f"{node} holds the merge")


def record_history(d):
    d.get(BASE + "/#/records/customers/C-1001")
    visible(d, "#history li", "the record's conflict history")
    detail = d.find_element(By.ID, "record-detail").text
    assert "Ada Lovelace-King" in detail and "agreed" in detail, detail
    shot(d, "6-record-history")


def tokens(d):
    d.find_element(By.TAG_NAME, "body").send_keys("4")
    visible(d, "#token-table tr[data-token='manager']", "the token list")
    field = d.find_element(By.ID, "new-token-name")
    field.send_keys("till-2" + Keys.ENTER)
    secret = visible(d, "#new-token-secret", "the new token").text
    assert secret.startswith("sst_"), secret
    visible(d, "#token-table tr[data-token='till-2']", "till-2 in the list")
    assert rest(PORT_A, secret, "GET", "/api/console/overview")[0] == 200
    shot(d, "7-tokens")
    click(d, "#token-table tr[data-token='till-2'] button")
    until(d, EC.alert_is_present(), "the revoke confirmation")
    d.switch_to.alert.accept()
    until(d, lambda d: not d.find_elements(By.CSS_SELECTOR, "#token-table tr[data-token='till-2']"), "till-2 gone")
    assert rest(PORT_A, secret, "GET", "/api/console/overview")[0] == 401
    step("token made and revoked")


# The JS client, imported by the page from the node; each call returns a JSON
# report or {"error": ...}.
JS = """
const [op, arg, done] = arguments;
(async () => {
  const { ShopSync } = await import("/shopsync.js");
  const progress = (window.progress ||= []);
  const open = () => ShopSync.open({ token: arg.token, deviceId: "till-test", retries: 2, baseDelayMs: 50,
                                     maxDelayMs: 200, timeoutMs: 3000, onProgress: (p) => progress.push(p.phase) });
  const sync = await open();
  try {
    if (op === "sync") return await sync.sync();
    if (op === "put") return await sync.put("customers", arg.record);
    if (op === "get") return (await sync.get("customers", arg.id)) || null;
    if (op === "pending") return await sync.pending();
    if (op === "progress") return progress;
  } finally { sync.close(); }
})().then((r) => done({ ok: r === undefined ? null : r }),
          (e) => done({ error: String(e.message || e), status: e.status }));
"""


def js(d, op, **arg):
    arg["token"] = TOKEN_A
    result = d.execute_async_script(JS, op, arg)
    step(f"js {op}: {json.dumps(result)[:300]}")
    return result


def js_client_offline_online(d):
    d.set_script_timeout(30)
    first = js(d, "sync")["ok"]
    assert first["pulled"] >= 3, first
    assert js(d, "get", id="C-1003")["ok"]["name"] == "Grace Hopper"
    # Offline: the browser's network is cut (DevTools network emulation).
    d.execute_cdp_cmd("Network.enable", {})
    d.execute_cdp_cmd("Network.emulateNetworkConditions",
                      {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    record = {"customer_id": "C-2001", "name": "Written offline at the till", "balance": 5}
    assert js(d, "put", record=record)["ok"]["sync_status"] == "UNSYNCED"
    failed = js(d, "sync")
    assert "error" in failed and failed["status"] == 0, failed
    assert "retry" in js(d, "progress")["ok"], "no retry was reported"
    # Still there when the client is opened again (IndexedDB), still pending.
    assert js(d, "get", id="C-2001")["ok"]["sync_status"] == "UNSYNCED"
    assert js(d, "pending")["ok"] == 1
    d.execute_cdp_cmd("Network.emulateNetworkConditions",
                      {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    back = js(d, "sync")["ok"]
    applied = back["applied"][0] if back["applied"] else {}
    assert back["pushed"] == 1 and applied.get("uniqueId") == "C-2001" and isinstance(applied.get("entityId"), int), back
    assert js(d, "pending")["ok"] == 0
    assert js(d, "get", id="C-2001")["ok"]["sync_status"] == "SYNCED"

    def at_b():
        status, doc = rest(PORT_B, TOKEN_B, "GET", "/v1/customers/C-2001")
        return status == 200 and doc["record"]["fields"]["name"] == "Written offline at the till"
    poll(at_b, "the offline write at shop-b")
    step("the offline write reached shop-b")


def main():
    os.makedirs(SHOTS, exist_ok=True)
    started = time.monotonic()
    d = browser()
    try:
        sign_in(d)
        overview(d)
        watch_remote_write(d)
        resolve_conflict(d)
        record_history(d)
        tokens(d)
        js_client_offline_online(d)
    except Exception as e:  # noqa: BLE001 -- report any failure with a screenshot
        print(f"FAILED: {type(e).__name__}: {e}", flush=True)
        try:
            shot(d, "failure")
            for entry in d.get_log("browser"):
                print("console:", entry)
        except Exception:  # noqa: BLE001
            pass
        return 1
    finally:
        d.quit()
    step(f"all checks passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
