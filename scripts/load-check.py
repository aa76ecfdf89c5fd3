#!/usr/bin/env python3
"""Load check: proves that no page of the portal hangs under concurrent rendering.

leptos 0.8 SSR once had a hang where a page render parked forever (see `route_list` in
server/src/http/mod.rs). This script starts the REAL binary in demo mode on a fresh data folder,
signs in every kind of user, then renders every page (with the role it is meant for, and with
roles it must refuse) many times with concurrent workers, and counts, per page: answers with the
expected status and a complete body, wrong statuses, incomplete bodies, time-outs and connection
errors, with p50/p99 latency.

    cargo leptos build   # the binary in $CARGO_TARGET_DIR/debug, the site in <workspace>/target/site
    python3 scripts/load-check.py --binary $CARGO_TARGET_DIR/debug/consent-portal \\
        --site-root target/site [--requests 3000] [--concurrency 32] [--timeout 10]

(`cargo build -p server --bin consent-portal` and an empty --site-root folder also work: pages
render on the server without the wasm.)

Exits 0 only when every request got its expected status with a complete body in time.
Python 3.11 standard library only.
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field

DEMO_STAFF = {
    "admin": ("admin@demo.test", "demo-admin-password"),
    "config": ("config@demo.test", "demo-config-password"),
    "manager": ("manager@demo.test", "demo-manager-password"),
}
UNKNOWN_PAGE = "/no-such-page"
BOGUS_INVITE = "/onboard/not-a-real-invite-token"


class SetupError(Exception):
    """The portal could not be started or prepared (not a load-check finding)."""


# --------------------------------------------------------------------------------------------
# HTTP


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes


class Incomplete(Exception):
    """The server closed the connection before the whole body arrived."""


def http_request(port: int, method: str, path: str, *, headers: dict[str, str] | None = None,
                 body: bytes | None = None, timeout: float = 10.0) -> Answer:
    """One request on a fresh connection, with a total deadline of `timeout` seconds.

    Raises TimeoutError when the deadline passes (connecting, waiting for the head, or while the
    body trickles in), Incomplete when the body is cut short, OSError/HTTPException otherwise.
    """
    deadline = time.monotonic() + timeout

    def remaining() -> float:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("deadline passed")
        return left

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=remaining())
    resp = None
    try:
        all_headers = {"Connection": "close", "Accept-Encoding": "identity", "User-Agent": "load-check"}
        all_headers.update(headers or {})
        conn.request(method, path, body=body, headers=all_headers)
        # getresponse() hands the socket over to the response (Connection: close), so keep it
        # to move its timeout towards the deadline before every read.
        sock = conn.sock
        sock.settimeout(remaining())
        resp = conn.getresponse()
        chunks = []
        while True:
            sock.settimeout(remaining())
            try:
                chunk = resp.read1(65536)
            except http.client.IncompleteRead as e:
                raise Incomplete(f"connection closed after {len(b''.join(chunks)) + len(e.partial)} bytes") from e
            if not chunk:
                break
            chunks.append(chunk)
        data = b"".join(chunks)
        # A Content-Length answer whose connection closed early is cut short silently by read1.
        declared = resp.getheader("Content-Length")
        if declared is not None and declared.isdigit() and int(declared) != len(data):
            raise Incomplete(f"Content-Length {declared} but {len(data)} bytes arrived")
        return Answer(resp.status, resp.headers, data)
    finally:
        if resp is not None:
            resp.close()
        conn.close()


def form(**fields: str) -> bytes:
    return urllib.parse.urlencode(fields).encode()


def cookie_of(answer: Answer) -> str:
    """The `name=value` of the (session) cookie an answer sets."""
    for value in answer.headers.get_all("Set-Cookie") or []:
        pair = value.split(";", 1)[0].strip()
        if "=" in pair and pair.split("=", 1)[1]:
            return pair
    raise SetupError(f"no session cookie in the answer (status {answer.status}): {answer.body[:300]!r}")


# --------------------------------------------------------------------------------------------
# The portal process


@dataclass
class Portal:
    proc: subprocess.Popen
    port: int
    data_dir: str
    log_path: str

    @property
    def public_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as f:
                return "".join(f.readlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_portal(binary: str, site_root: str, work_dir: str, startup_timeout: float) -> Portal:
    port = free_port()
    data_dir = os.path.join(work_dir, "data")
    log_path = os.path.join(work_dir, "portal.log")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "PORTAL_CONFIG", "PORTAL_PUBLIC_URL")}
    env.update({
        "PORTAL_DATA_DIR": data_dir,
        "PORTAL_LISTEN": f"127.0.0.1:{port}",
        "PORTAL_SITE_ROOT": site_root,
        # The load would otherwise write a few info lines per request; warnings are what matter.
        "RUST_LOG": os.environ.get("RUST_LOG", "warn"),
    })
    log = open(log_path, "wb")
    proc = subprocess.Popen([binary, "demo"], env=env, stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, start_new_session=True)
    log.close()
    portal = Portal(proc, port, data_dir, log_path)
    deadline = time.monotonic() + startup_timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SetupError(f"the portal exited with {proc.returncode} during start-up:\n{portal.log_tail()}")
        try:
            if http_request(port, "GET", "/healthz", timeout=2).status == 200:
                return portal
        except (OSError, http.client.HTTPException, Incomplete):
            pass
        time.sleep(0.25)
    portal.stop()
    raise SetupError(f"GET /healthz did not answer 200 within {startup_timeout:.0f} s:\n{portal.log_tail()}")


# --------------------------------------------------------------------------------------------
# Sessions and fixtures


def server_fn(portal: Portal, name: str, cookie: str | None = None, **args: str) -> Answer:
    """Calls a server function the way the browser does (form-encoded POST, same origin)."""
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Origin": portal.public_url,
    }
    if cookie:
        headers["Cookie"] = cookie
    return http_request(portal.port, "POST", f"/api/{name}", headers=headers, body=form(**args), timeout=30)


def json_of(answer: Answer, what: str):
    if answer.status != 200:
        raise SetupError(f"{what}: status {answer.status}: {answer.body[:300]!r}")
    return json.loads(answer.body)


def sign_in(portal: Portal, role: str) -> str:
    email, password = DEMO_STAFF[role]
    answer = server_fn(portal, "auth/sign_in", email=email, password=password, next="/tenants")
    json_of(answer, f"sign in as {email}")
    return cookie_of(answer)


def invite_token(link: str) -> str:
    path = urllib.parse.urlparse(link).path
    prefix = "/onboard/"
    if not path.startswith(prefix) or len(path) <= len(prefix):
        raise SetupError(f"unexpected invite link {link!r}")
    return path[len(prefix):]


@dataclass
class Fixtures:
    cookies: dict[str, str]
    tenant_id: str            # a tenant every staff role (including the manager) may see
    other_tenant_id: str      # a tenant not assigned to the account manager
    landing_token: str        # a pending invite, only ever opened (never redeemed)


def prepare(portal: Portal) -> Fixtures:
    cookies = {role: sign_in(portal, role) for role in DEMO_STAFF}
    tenants = json_of(server_fn(portal, "tenants/list", cookies["config"], include_archived="false"), "list tenants")
    mine = json_of(server_fn(portal, "tenants/list", cookies["manager"], include_archived="false"),
                   "list tenants (account manager)")
    if len(tenants) < 2 or not mine:
        raise SetupError(f"the demo should seed several tenants, some assigned to the manager: {tenants!r}")
    mine_ids = {t["id"] for t in mine}
    assigned = mine[0]["id"]
    unassigned = next((t["id"] for t in tenants if t["id"] not in mine_ids), None)
    if unassigned is None:
        raise SetupError("every demo tenant is assigned to the account manager; need one that is not")
    # Issuing an invite revokes the tenant's pending one, so the invite that is redeemed (the
    # wizard session) and the one whose landing page is opened belong to different tenants.
    redeemed = json_of(server_fn(portal, "onboarding/create_invite", cookies["config"], tenant_id=assigned), "create invite")
    answer = server_fn(portal, "onboarding/redeem_invite", token=invite_token(redeemed["link"]))
    json_of(answer, "redeem invite")
    cookies["invitee"] = cookie_of(answer)
    landing = json_of(server_fn(portal, "onboarding/create_invite", cookies["config"], tenant_id=unassigned),
                      "create invite (landing)")
    return Fixtures(cookies, assigned, unassigned, invite_token(landing["link"]))


# --------------------------------------------------------------------------------------------
# What is rendered, by whom, and what it must answer


@dataclass
class Target:
    role: str               # "anonymous" or a key of Fixtures.cookies
    path: str
    status: int             # the expected status
    kind: str = "html"      # "html": a complete document; "redirect": Location to `location`; "text"
    location: str = ""
    text: bytes = b""
    label: str = ""

    def name(self) -> str:
        return f"{self.role:<9} {self.label or self.path}"


def targets_for(fx: Fixtures) -> list[Target]:
    t, other = fx.tenant_id, fx.other_tenant_id
    login_for = lambda path: "/login?next=" + urllib.parse.quote(path, safe="/")
    return [
        # Anonymous visitors: public pages render; staff pages (any other path) send to sign-in.
        Target("anonymous", "/login", 200),
        Target("anonymous", "/healthz", 200, kind="text", text=b"ok"),
        Target("anonymous", f"/onboard/{fx.landing_token}", 200, label="/onboard/{token}"),
        Target("anonymous", BOGUS_INVITE, 404, label="/onboard/{bogus token}"),
        Target("anonymous", "/wizard", 401, label="/wizard (no invite session)"),
        Target("anonymous", "/", 303, kind="redirect", location=login_for("/")),
        Target("anonymous", "/tenants", 303, kind="redirect", location=login_for("/tenants")),
        Target("anonymous", UNKNOWN_PAGE, 303, kind="redirect", location=login_for(UNKNOWN_PAGE)),
        Target("anonymous", "/staff", 303, kind="redirect", location=login_for("/staff")),
        Target("anonymous", "/audit", 303, kind="redirect", location=login_for("/audit")),
        Target("anonymous", "/settings/webhooks", 303, kind="redirect", location=login_for("/settings/webhooks")),
        Target("anonymous", "/settings/api", 303, kind="redirect", location=login_for("/settings/api")),
        # Administrator: every staff page.
        Target("admin", "/", 302, kind="redirect", location="/tenants"),
        Target("admin", "/login", 200),
        Target("admin", "/tenants", 200),
        Target("admin", "/tenants/new", 200),
        Target("admin", f"/tenants/{t}", 200, label="/tenants/{id}"),
        Target("admin", f"/tenants/{t}/edit", 200, label="/tenants/{id}/edit"),
        Target("admin", "/staff", 200),
        Target("admin", "/audit", 200),
        Target("admin", "/overview", 200),
        Target("admin", "/settings/webhooks", 200),
        Target("admin", "/settings/api", 200),
        Target("admin", UNKNOWN_PAGE, 404),
        # Configuration staff: manages tenants, not staff.
        Target("config", "/tenants", 200),
        Target("config", "/tenants/new", 200),
        Target("config", f"/tenants/{t}", 200, label="/tenants/{id}"),
        Target("config", f"/tenants/{t}/edit", 200, label="/tenants/{id}/edit"),
        Target("config", "/staff", 403),
        Target("config", "/settings/webhooks", 403),
        Target("config", "/settings/api", 403),
        # Account manager: sees assigned tenants only, manages nothing.
        Target("manager", "/tenants", 200),
        Target("manager", f"/tenants/{t}", 200, label="/tenants/{assigned id}"),
        Target("manager", f"/tenants/{other}", 404, label="/tenants/{unassigned id}"),
        Target("manager", "/tenants/new", 403),
        Target("manager", "/staff", 403),
        Target("manager", "/settings/webhooks", 403),
        Target("manager", "/settings/api", 403),
        Target("manager", "/audit", 200),
        Target("manager", "/overview", 200),
        # Customer admin in an invite session.
        Target("invitee", "/wizard", 200),
        Target("invitee", "/tenants", 303, kind="redirect", location=login_for("/tenants")),
    ]


# Leptos writes the document, then after `</html>` the out-of-order chunks (`<template>`s and
# their scripts, when the route streams) and the hydration data (`<script>`s); the very last
# thing it writes is `__INCOMPLETE_CHUNKS=[…];` (the ids of Suspense boundaries left to the
# browser, e.g. for a LocalResource; listing some is normal). A page is complete when the
# document is closed and that final script is there.
DOCUMENT_END = re.compile(rb'<script nonce="[^"]*">__INCOMPLETE_CHUNKS=\[[0-9,]*\];</script>\s*\Z')


def complete_html(body: bytes) -> bool:
    end = body.rfind(b"</html>")
    return (body.lstrip()[:15].lower() == b"<!doctype html>" and end >= 0
            and DOCUMENT_END.search(body, end) is not None)


def same_location(got: str | None, want: str) -> bool:
    """Whether a Location names the wanted path and query, however the query is escaped."""
    if got is None:
        return False
    g, w = urllib.parse.urlsplit(got), urllib.parse.urlsplit(want)
    return (g.scheme, g.netloc, g.path) == (w.scheme, w.netloc, w.path) and \
        urllib.parse.parse_qs(g.query) == urllib.parse.parse_qs(w.query)


def check(target: Target, answer: Answer) -> str:
    """'ok', 'status' or 'incomplete' for an answer that arrived in time."""
    if answer.status != target.status:
        return "status"
    if target.kind == "html":
        return "ok" if complete_html(answer.body) else "incomplete"
    if target.kind == "redirect":
        if not same_location(answer.headers.get("Location"), target.location):
            return "status"
        # The gate's 303 has no body; a redirect the app renders (`<Redirect>`) is a whole page.
        rendered = answer.body.lstrip().lower().startswith(b"<!doctype")
        return "ok" if not rendered or complete_html(answer.body) else "incomplete"
    return "ok" if answer.body == target.text else "incomplete"


# --------------------------------------------------------------------------------------------
# The load


OUTCOMES = ("ok", "status", "incomplete", "timeout", "error")


@dataclass
class Stats:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(OUTCOMES, 0))
    latencies: list[float] = field(default_factory=list)
    samples: list[str] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered), max(1, math.ceil(p / 100 * len(ordered)))) - 1]


def run_load(portal: Portal, fx: Fixtures, targets: list[Target], total: int, concurrency: int,
             timeout: float) -> tuple[list[Stats], float]:
    stats = [Stats() for _ in targets]
    lock = threading.Lock()
    next_index = 0
    stop = threading.Event()

    def worker() -> None:
        nonlocal next_index
        while not stop.is_set():
            with lock:
                if next_index >= total:
                    return
                i = next_index
                next_index += 1
            k = i % len(targets)
            target = targets[k]
            headers = {"Accept": "text/html"}
            if target.role != "anonymous":
                headers["Cookie"] = fx.cookies[target.role]
            started = time.monotonic()
            detail = ""
            try:
                answer = http_request(portal.port, "GET", target.path, headers=headers, timeout=timeout)
                outcome = check(target, answer)
                if outcome != "ok":
                    rid = answer.headers.get("x-request-id", "-")
                    detail = (f"status {answer.status}, {len(answer.body)} bytes, request id {rid}, "
                              f"ends {answer.body[-60:]!r}, Location {answer.headers.get('Location')!r}")
            except TimeoutError:
                outcome, detail = "timeout", f"no complete answer within {timeout:g} s"
            except Incomplete as e:
                outcome, detail = "incomplete", str(e)
            except Exception as e:  # refused, reset, unparsable answer…
                outcome, detail = "error", f"{type(e).__name__}: {e}"
            elapsed = time.monotonic() - started
            with lock:
                s = stats[k]
                s.counts[outcome] += 1
                if outcome not in ("timeout", "error"):
                    s.latencies.append(elapsed)
                if detail and len(s.samples) < 3:
                    s.samples.append(f"request #{i} after {elapsed:.2f} s: {detail}")

    threads = [threading.Thread(target=worker, name=f"load-{n}", daemon=True) for n in range(concurrency)]
    started = time.monotonic()
    for th in threads:
        th.start()
    try:
        for th in threads:
            while th.is_alive():
                th.join(0.5)
    except BaseException:
        stop.set()
        raise
    return stats, time.monotonic() - started


def report(targets: list[Target], stats: list[Stats], wall: float, total: int, portal: Portal,
           timeout: float) -> int:
    width = max(len(t.name()) for t in targets)
    head = f"{'role / page':<{width}}  {'expect':>6} {'n':>5} {'ok':>5} {'status':>6} {'incompl':>7} {'timeout':>7} {'error':>5}  {'p50 ms':>7} {'p99 ms':>7}"
    print(head)
    print("-" * len(head))
    for t, s in zip(targets, stats):
        n = sum(s.counts.values())
        c = s.counts
        print(f"{t.name():<{width}}  {t.status:>6} {n:>5} {c['ok']:>5} {c['status']:>6} {c['incomplete']:>7} "
              f"{c['timeout']:>7} {c['error']:>5}  {percentile(s.latencies, 50) * 1000:>7.1f} {percentile(s.latencies, 99) * 1000:>7.1f}")
    totals = {o: sum(s.counts[o] for s in stats) for o in OUTCOMES}
    n = sum(totals.values())
    all_lat = [x for s in stats for x in s.latencies]
    print("-" * len(head))
    print(f"{n} requests in {wall:.1f} s ({n / wall:.0f}/s); overall p50 {percentile(all_lat, 50) * 1000:.1f} ms, "
          f"p99 {percentile(all_lat, 99) * 1000:.1f} ms, max {max(all_lat, default=0) * 1000:.1f} ms")
    failed = [(t, s) for t, s in zip(targets, stats) if s.counts["ok"] != sum(s.counts.values())]
    for t, s in failed:
        print(f"\nFAILED {t.role} GET {t.label or t.path} (expected {t.status}):")
        for line in s.samples:
            print(f"  {line}")
        cookie = f" -H 'Cookie: <{t.role} session cookie>'" if t.role != "anonymous" else ""
        print(f"  reproduce: start `consent-portal demo`, then (concurrently, many times) "
              f"curl -sS -m {timeout:g} -o /dev/null -w '%{{http_code}} %{{size_download}}\\n'{cookie} http://127.0.0.1:<port>{t.path}")
    if failed:
        print(f"\nportal log (last lines):\n{portal.log_tail()}")
    print(f"load-check: {n} requests, {totals['incomplete']} incomplete, {totals['timeout']} timed out, "
          f"{totals['error']} errors" + (f", {totals['status']} wrong status" if totals["status"] else ""))
    return 0 if not failed and n == total else 1


# --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", required=True, help="the consent-portal executable")
    parser.add_argument("--site-root", required=True, help="the built site (folder holding pkg/)")
    parser.add_argument("--requests", type=int, default=3000, help="total page requests (default 3000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent workers (default 32)")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds per request, in total (default 10)")
    parser.add_argument("--startup-timeout", type=float, default=120.0, help="seconds to wait for /healthz")
    parser.add_argument("--keep", action="store_true", help="keep the temporary data folder and log")
    args = parser.parse_args()
    if not (os.path.isfile(args.binary) and os.access(args.binary, os.X_OK)):
        parser.error(f"--binary {args.binary}: not an executable file")
    if not os.path.isdir(args.site_root):
        parser.error(f"--site-root {args.site_root}: not a directory")
    if args.requests < 1 or args.concurrency < 1 or args.timeout <= 0:
        parser.error("--requests, --concurrency and --timeout must be positive")

    # Ctrl-C raises KeyboardInterrupt; make SIGTERM do the same so the portal is always stopped.
    def on_sigterm(_signum, _frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    work_dir = tempfile.mkdtemp(prefix="load-check-")
    portal = None
    try:
        print(f"load-check: starting {args.binary} demo (data in {work_dir})", flush=True)
        portal = start_portal(os.path.abspath(args.binary), os.path.abspath(args.site_root), work_dir, args.startup_timeout)
        fx = prepare(portal)
        targets = targets_for(fx)
        print(f"load-check: {portal.public_url} up; {len(targets)} (role, page) pairs, {args.requests} requests, "
              f"{args.concurrency} workers, {args.timeout:g} s per request", flush=True)
        stats, wall = run_load(portal, fx, targets, args.requests, args.concurrency, args.timeout)
        alive = portal.proc.poll() is None
        code = report(targets, stats, wall, args.requests, portal, args.timeout)
        if not alive:
            print(f"load-check: the portal exited ({portal.proc.returncode}) during the load")
            code = 1
        return code
    except SetupError as e:
        print(f"load-check: setup failed: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("load-check: interrupted", file=sys.stderr)
        return 130
    finally:
        if portal is not None:
            portal.stop()
        if args.keep:
            print(f"load-check: kept {work_dir}", file=sys.stderr)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
