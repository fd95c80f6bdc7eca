#!/usr/bin/env python3
"""inputs_driver.py — the data side of tests/agent/inputs.sh (not a test by itself).

Writes the files every agent input reads (journal files, a Docker data root, a node's
/var/log/containers links, nginx logs, tailed files), sends syslog over UDP and TCP, talks to
the agent socket, and records what each record must look like once stored (expect.json).
`verify` then compares that with the rows the logflux CLI decrypted.

  inputs_driver.py ports N                              N free loopback ports (TCP and UDP)
  inputs_driver.py prepare WORK MARK                    files present before the agent starts
  inputs_driver.py live WORK MARK UDP TCP               syslog + appends while the agent runs
  inputs_driver.py socket WORK MARK SOCK OPS_URL        agent socket: pong, acks after sealing
  inputs_driver.py restart WORK MARK                    a new record per file after a restart
  inputs_driver.py verify WORK MARK ROWS.json           every expected record exactly once

Every record holds MARK so that nothing else on the server is mistaken for it; every wait is
bounded.
"""
import calendar
import hashlib
import json
import os
import re
import socket
import struct
import subprocess
import sys
import time
import urllib.request

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
BOOT_ID = "6f0c8b1d2e3a4b5c8d9e0f1a2b3c4d5e"
JOURNAL_REMOTE = ["/lib/systemd/systemd-journal-remote", "/usr/lib/systemd/systemd-journal-remote"]


# ---------------------------------------------------------------- helpers

def hexid(seed):
    return hashlib.sha256(seed.encode()).hexdigest()


def rfc3339(ns, digits=9, sep="T"):
    """(text, the ns the text denotes): UTC, `digits` fraction digits (truncated)."""
    secs, frac = divmod(ns, 10**9)
    text = time.strftime("%Y-%m-%d" + sep + "%H:%M:%S", time.gmtime(secs))
    kept = 0
    if digits:
        f = f"{frac:09d}"[:digits]
        text += "." + f
        kept = int(f) * 10 ** (9 - digits)
    return text + "Z", secs * 10**9 + kept


def parse_rfc3339(text):
    m = re.fullmatch(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?Z", text)
    if not m:
        raise ValueError(f"not RFC 3339 UTC: {text!r}")
    secs = calendar.timegm(tuple(int(m.group(i)) for i in range(1, 7)))
    frac = (m.group(7) or "").ljust(9, "0")
    return secs * 10**9 + int(frac)


def append(path, text, mode="a"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, mode + "b") as f:
        f.write(text.encode() if isinstance(text, str) else text)
        f.flush()
        os.fsync(f.fileno())


def load_state(work):
    with open(os.path.join(work, "expect.json")) as f:
        return json.load(f)


def save_state(work, state):
    tmp = os.path.join(work, "expect.json.tmp")
    with open(tmp, "w") as f:
        json.dump(state, f, indent=1)
    os.replace(tmp, os.path.join(work, "expect.json"))


def expect(state, inp, msg, level, source, attrs=None, ts=None, no_attrs=(), ts_read=False):
    """One stored record: exact message, level, source, labels (a value None = present with
    any value), and either its own time (ts, ns) or the read time (ts_read: between the start
    of the test and the verification)."""
    state["records"].append({"input": inp, "message": msg, "level": level, "source": source,
                             "attrs": attrs or {}, "no_attrs": list(no_attrs), "ts": ts,
                             "ts_read": ts_read})


# ---------------------------------------------------------------- journald

def export_field(key, value):
    b = value.encode()
    if b"\n" in b:  # the binary form: KEY\n, little-endian u64 length, bytes, \n
        return key.encode() + b"\n" + struct.pack("<Q", len(b)) + b + b"\n"
    return key.encode() + b"=" + b + b"\n"


def journal_entry(rt_us, mono_us, fields):
    out = export_field("__REALTIME_TIMESTAMP", str(rt_us))
    out += export_field("__MONOTONIC_TIMESTAMP", str(mono_us))
    out += export_field("_BOOT_ID", BOOT_ID)
    for k, v in fields:
        out += export_field(k, v)
    return out + b"\n"


def journal_write(work, entries, run, out="journal/x.journal"):
    """Convert export text into <work>/<out> (a second run appends to it)."""
    binary = next((p for p in JOURNAL_REMOTE if os.access(p, os.X_OK)), None)
    if binary is None:
        sys.exit("systemd-journal-remote not found (package systemd-journal-remote, "
                 "scripts/deps.sh)")
    exp = os.path.join(work, f"journal-in-{run}.export")
    with open(exp, "wb") as f:
        f.write(b"".join(entries))
    os.makedirs(os.path.dirname(os.path.join(work, out)), exist_ok=True)
    r = subprocess.run([binary, "--output=" + os.path.join(work, out),
                        "--split-mode=none", exp], capture_output=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"systemd-journal-remote failed: {r.stderr.decode(errors='replace')[-400:]}")


def journald_prepare(work, mark, st, now):
    rt1 = now // 1000 - 5 * 3600 * 10**6           # 5 h ago, in µs
    rt2 = rt1 + 60 * 10**6
    src2 = rt2 - 1500 * 10**3                       # the client's own time, 1.5 s earlier
    common = [("_SYSTEMD_UNIT", "shop.service"), ("_HOSTNAME", "node-7"), ("_PID", "321"),
              ("_UID", "998"), ("_COMM", "shopd"), ("_TRANSPORT", "journal"),
              ("SYSLOG_IDENTIFIER", "shop"), ("CODE_FILE", "main.c")]
    e1 = journal_entry(rt1, 1000, [("MESSAGE", f"{mark} journald 1 started"),
                                   ("PRIORITY", "6")] + common)
    e2 = journal_entry(rt2, 2000, [("MESSAGE", f"{mark} journald 2 payment failed"),
                                   ("PRIORITY", "3"),
                                   ("_SOURCE_REALTIME_TIMESTAMP", str(src2))] + common)
    journal_write(work, [e1, e2], 0)
    labels = {"unit": "shop.service", "hostname": "node-7", "pid": "321", "uid": "998",
              "comm": "shopd", "transport": "journal", "boot_id": BOOT_ID}
    expect(st, "journal", f"{mark} journald 1 started", 7, "journald", labels, ts=rt1 * 1000,
           no_attrs=["CODE_FILE"])
    expect(st, "journal", f"{mark} journald 2 payment failed", 4, "journald", labels,
           ts=src2 * 1000)
    # A second journal, read by an input configured with `files:` instead of a directory.
    rt3 = rt1 + 120 * 10**6
    e3 = journal_entry(rt3, 500, [("MESSAGE", f"{mark} journald-files 1 from a file"),
                                  ("PRIORITY", "2"), ("_SYSTEMD_USER_UNIT", "sync.service"),
                                  ("_COMM", "syncd"), ("_HOSTNAME", "node-9")])
    journal_write(work, [e3], 2, out="journal-files/y.journal")
    expect(st, "journal_files", f"{mark} journald-files 1 from a file", 3, "journald",
           {"user_unit": "sync.service", "comm": "syncd", "hostname": "node-9"}, ts=rt3 * 1000,
           no_attrs=["unit"])


def journald_live(work, mark, st, now):
    rt = now // 1000 - 4 * 3600 * 10**6
    e = journal_entry(rt, 3000, [("MESSAGE", f"{mark} journald 3 appended\nsecond line"),
                                 ("PRIORITY", "4"), ("_SYSTEMD_UNIT", "late.service"),
                                 ("_HOSTNAME", "node-8")])
    journal_write(work, [e], 1)
    expect(st, "journal", f"{mark} journald 3 appended\nsecond line", 5, "journald",
           {"unit": "late.service", "hostname": "node-8"}, ts=rt * 1000)


# ---------------------------------------------------------------- docker

def docker_container(work, cid, name, image, labels):
    d = os.path.join(work, "docker", "containers", cid)
    os.makedirs(d, exist_ok=True)
    cfg = {"ID": cid, "Name": "/" + name, "Image": "sha256:" + hexid(image),
           "Config": {"Image": image, "Labels": labels}, "State": {"Running": True}}
    append(os.path.join(d, "config.v2.json"), json.dumps(cfg), mode="w")
    return os.path.join(d, cid + "-json.log")


def docker_line(log, stream, ts_text):
    return json.dumps({"log": log, "stream": stream, "time": ts_text}) + "\n"


def docker_prepare(work, mark, st, now):
    cid = hexid("shop-web")
    path = docker_container(work, cid, "shop-web", "shop/web:1.2",
                            {"com.docker.compose.project": "shop",
                             "com.docker.compose.service": "web", "maintainer": "ops"})
    t1, n1 = rfc3339(now - 70 * 60 * 10**9 + 123456789)
    t2, n2 = rfc3339(now - 69 * 60 * 10**9)
    t3, n3 = rfc3339(now - 68 * 60 * 10**9)
    t4, _ = rfc3339(now - 67 * 60 * 10**9)
    append(path, docker_line(f"{mark} docker 1 ready\n", "stdout", t1) +
           docker_line(f"{mark} docker 2 first piece, ", "stdout", t2) +     # split by Docker
           docker_line(f"{mark} docker 3 [ERROR] oops\n", "stderr", t3) +     # other stream
           docker_line("second piece\n", "stdout", t4))
    base = {"container_id": cid[:12], "container_name": "shop-web", "image": "shop/web:1.2",
            "label.com.docker.compose.project": "shop",
            "label.com.docker.compose.service": "web"}
    expect(st, "docker", f"{mark} docker 1 ready", 7, "shop-web", {**base, "stream": "stdout"},
           ts=n1, no_attrs=["label.maintainer", "split"])
    expect(st, "docker", f"{mark} docker 2 first piece, second piece", 7, "shop-web",
           {**base, "stream": "stdout"}, ts=n2, no_attrs=["split"])
    expect(st, "docker", f"{mark} docker 3 [ERROR] oops", 4, "shop-web",
           {**base, "stream": "stderr"}, ts=n3)


def docker_live(work, mark, st, now):
    """A container that starts while the agent runs: read from its start."""
    cid = hexid("late-one")
    path = docker_container(work, cid, "late-one", "busybox:1.36", {})
    t, n = rfc3339(now - 30 * 10**9)
    append(path, docker_line(f"{mark} docker 4 late container\n", "stdout", t))
    expect(st, "docker", f"{mark} docker 4 late container", 7, "late-one",
           {"container_id": cid[:12], "container_name": "late-one", "image": "busybox:1.36",
            "stream": "stdout"}, ts=n)


# ---------------------------------------------------------------- kubernetes

def k8s_pod(work, ns, pod, container, cid):
    """/var/log/pods/<ns>_<pod>_<uid>/<container>/0.log and its /var/log/containers link."""
    d = os.path.join(work, "k8s", "pods", f"{ns}_{pod}_uid-{hexid(pod)[:8]}", container)
    os.makedirs(d, exist_ok=True)
    target = os.path.join(d, "0.log")
    append(target, "")
    links = os.path.join(work, "k8s", "containers")
    os.makedirs(links, exist_ok=True)
    os.symlink(target, os.path.join(links, f"{pod}_{ns}_{container}-{cid}.log"))
    return target


def k8s_prepare(work, mark, st, now):
    cid = hexid("web-app")
    path = k8s_pod(work, "shop", "web-7d9f-abcde", "app", cid)
    t1, n1 = rfc3339(now - 2 * 3600 * 10**9 + 987654321)
    t2, n2 = rfc3339(now - 2 * 3600 * 10**9 + 10**9)
    t3, n3 = rfc3339(now - 2 * 3600 * 10**9 + 2 * 10**9)
    t4, _ = rfc3339(now - 2 * 3600 * 10**9 + 3 * 10**9)
    append(path, f"{t1} stdout F {mark} k8s 1 hello\n"
                 f"{t2} stdout P {mark} k8s 2 first \n"
                 f"{t3} stderr F {mark} k8s 3 [ERROR] broken\n"
                 f"{t4} stdout P second \n"
                 f"{t4} stdout F third\n")
    base = {"namespace": "shop", "pod": "web-7d9f-abcde", "container": "app",
            "container_id": cid[:12]}
    src = "shop/web-7d9f-abcde/app"
    expect(st, "k8s", f"{mark} k8s 1 hello", 7, src, {**base, "stream": "stdout"}, ts=n1)
    expect(st, "k8s", f"{mark} k8s 2 first second third", 7, src,
           {**base, "stream": "stdout"}, ts=n2, no_attrs=["split"])
    expect(st, "k8s", f"{mark} k8s 3 [ERROR] broken", 4, src, {**base, "stream": "stderr"},
           ts=n3)
    # A pod whose runtime writes Docker's json-file format (format: auto tells per line).
    cid2 = hexid("dns")
    path2 = k8s_pod(work, "kube-system", "coredns-5d78c-x2x7q", "coredns", cid2)
    t5, n5 = rfc3339(now - 90 * 60 * 10**9 + 555)
    append(path2, docker_line(f"{mark} k8s-docker 1 [WARN] slow upstream\n", "stderr", t5))
    expect(st, "k8s", f"{mark} k8s-docker 1 [WARN] slow upstream", 5,
           "kube-system/coredns-5d78c-x2x7q/coredns",
           {"namespace": "kube-system", "pod": "coredns-5d78c-x2x7q", "container": "coredns",
            "container_id": cid2[:12], "stream": "stderr"}, ts=n5)


def k8s_live(work, mark, st, now):
    path = os.path.join(work, "k8s", "pods", f"shop_web-7d9f-abcde_uid-{hexid('web-7d9f-abcde')[:8]}",
                        "app", "0.log")
    t, n = rfc3339(now - 10 * 10**9)
    append(path, f"{t} stdout F {mark} k8s 4 appended\n")
    expect(st, "k8s", f"{mark} k8s 4 appended", 7, "shop/web-7d9f-abcde/app",
           {"namespace": "shop", "pod": "web-7d9f-abcde", "stream": "stdout"}, ts=n)


# ---------------------------------------------------------------- nginx

def nginx_local(ns, offset_h):
    """nginx $time_local with a +HH00 zone, and the instant (ns, whole seconds) it denotes."""
    secs = ns // 10**9
    tm = time.gmtime(secs + offset_h * 3600)
    text = (f"{tm.tm_mday:02d}/{MONTHS[tm.tm_mon - 1]}/{tm.tm_year}:"
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {'+' if offset_h >= 0 else '-'}"
            f"{abs(offset_h):02d}00")
    return text, secs * 10**9


def nginx_prepare(work, mark, st, now):
    access = os.path.join(work, "nginx", "access.log")
    error = os.path.join(work, "nginx", "error.log")
    ta, na = nginx_local(now - 4 * 3600 * 10**9, 1)
    tb, nb = nginx_local(now - 4 * 3600 * 10**9 + 5 * 10**9, -5)
    tc, nc = nginx_local(now - 4 * 3600 * 10**9 + 9 * 10**9, 0)
    lines = [
        (f'203.0.113.7 - alice [{ta}] "GET /{mark}/cart?id=9 HTTP/1.1" 200 5120 '
         f'"https://shop.example/" "Mozilla/5.0 (X11)"', 7, na,
         {"remote_addr": "203.0.113.7", "method": "GET", "path": f"/{mark}/cart?id=9",
          "protocol": "HTTP/1.1", "status": "200", "bytes": "5120",
          "referer": "https://shop.example/", "user_agent": "Mozilla/5.0 (X11)"}, []),
        (f'198.51.100.2 - - [{tb}] "POST /{mark}/pay HTTP/2.0" 502 157 "-" "curl/8.4"', 4, nb,
         {"method": "POST", "status": "502", "bytes": "157", "user_agent": "curl/8.4"},
         ["referer"]),
        (f'192.0.2.1 - - [{tc}] "GET /{mark}/missing HTTP/1.1" 404 - "-" "-"', 5, nc,
         {"method": "GET", "status": "404"}, ["bytes", "referer", "user_agent"]),
    ]
    append(access, "".join(line + "\n" for line, *_ in lines))
    for line, level, ts, attrs, absent in lines:
        expect(st, "nginx", line, level, access, {**attrs, "nginx_log": "access"}, ts=ts,
               no_attrs=absent)
    # The error log: local time without a zone, read as UTC.
    e1_ns = (now - 3 * 3600 * 10**9) // 10**9 * 10**9
    e2_ns = e1_ns + 10**9
    e1 = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(e1_ns // 10**9))
    e2 = time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(e2_ns // 10**9))
    m1 = (f"{mark} nginx-err 1 upstream timed out (110: Connection timed out) while reading, "
          f'client: 203.0.113.7, server: shop.example, request: "GET /api HTTP/1.1", '
          f'upstream: "http://127.0.0.1:8080/api", host: "shop.example"')
    m2 = f"{mark} nginx-err 2 conflicting server name"
    append(error, f"{e1} [error] 1234#5678: *91 {m1}\n{e2} [warn] 1234#0: {m2}\n")
    expect(st, "nginx", m1, 4, error,
           {"nginx_log": "error", "pid": "1234", "tid": "5678", "connection_id": "91",
            "client": "203.0.113.7", "server": "shop.example", "request": "GET /api HTTP/1.1",
            "upstream": "http://127.0.0.1:8080/api", "host": "shop.example"}, ts=e1_ns)
    expect(st, "nginx", m2, 5, error, {"nginx_log": "error", "pid": "1234"}, ts=e2_ns,
           no_attrs=["connection_id"])


# ---------------------------------------------------------------- tail + parsers

def tail_prepare(work, mark, st, now):
    regex_log = os.path.join(work, "logs", "regex.log")
    t1, n1 = rfc3339(now - 3 * 3600 * 10**9 + 250 * 10**6, digits=3)
    t2, n2 = rfc3339(now - 3 * 3600 * 10**9 + 10**9, digits=0)
    append(regex_log, f"{t1} WARN [db.pool] {mark} regex 1 slow query took 1.2s\n"
                      f"{t2} ERROR [api] {mark} regex 2 request failed\n"
                      f"{mark} regex 3 a line the pattern does not match\n")
    expect(st, "tail_regex", f"{mark} regex 1 slow query took 1.2s", 5, regex_log,
           {"component": "db.pool", "team": "core"}, ts=n1, no_attrs=["time", "level"])
    expect(st, "tail_regex", f"{mark} regex 2 request failed", 4, regex_log,
           {"component": "api"}, ts=n2)
    expect(st, "tail_regex", f"{mark} regex 3 a line the pattern does not match", 7, regex_log,
           {"team": "core"}, ts_read=True, no_attrs=["component"])

    json_log = os.path.join(work, "logs", "app.json")
    j1, n1 = rfc3339(now - 3 * 3600 * 10**9 + 5 * 10**9 + 125 * 10**6, digits=3)
    n2 = (now - 150 * 60 * 10**9) // 10**6 * 10**6          # pino: epoch milliseconds
    j3, n3 = rfc3339(now - 2 * 3600 * 10**9 + 777777000, digits=6)
    append(json_log,
           json.dumps({"time": j1, "level": "warn", "msg": f"{mark} json 1 disk 91% full",
                       "host": "web-1"}) + "\n" +
           json.dumps({"ts": n2 // 10**6, "level": 50, "message": f"{mark} json 2 pino error"}) +
           "\n" +
           json.dumps({"timestamp": j3, "severity": "debug",
                       "log": f"{mark} json 3 \"quoted\" \\ \u00e9\n"}) + "\n")
    expect(st, "tail_json", f"{mark} json 1 disk 91% full", 5, json_log, {}, ts=n1,
           no_attrs=["host", "team"])
    expect(st, "tail_json", f"{mark} json 2 pino error", 4, json_log, {}, ts=n2)
    expect(st, "tail_json", f"{mark} json 3 \"quoted\" \\ \u00e9", 8, json_log, {}, ts=n3)


def tail_live(work, mark, st, now):
    json_log = os.path.join(work, "logs", "app.json")
    j, n = rfc3339(now - 5 * 10**9, digits=9)
    append(json_log, json.dumps({"@timestamp": j, "lvl": "error",
                                 "msg": f"{mark} json 4 appended"}) + "\n")
    expect(st, "tail_json", f"{mark} json 4 appended", 4, json_log, {}, ts=n)


# ---------------------------------------------------------------- after a restart

def after_restart(work, mark, st, now):
    """One new record per file and journal after the agent restarted. Each of these inputs
    reads in order, so once the new record is stored, a re-read of the old ones would have
    been stored before it: verify then proves the checkpoints held."""
    rt = now // 1000 - 10**6
    journal_write(work, [journal_entry(rt, 9000, [("MESSAGE", f"{mark} journald 4 after restart"),
                                                  ("PRIORITY", "6")])], 3)
    expect(st, "journal", f"{mark} journald 4 after restart", 7, "journald", {}, ts=rt * 1000)
    journal_write(work, [journal_entry(rt, 9000, [("MESSAGE", f"{mark} journald-files 2 after"),
                                                  ("PRIORITY", "6")])], 4,
                  out="journal-files/y.journal")
    expect(st, "journal_files", f"{mark} journald-files 2 after", 7, "journald", {},
           ts=rt * 1000)
    t, n = rfc3339(now - 2 * 10**9)
    append(os.path.join(work, "docker", "containers", hexid("shop-web"),
                        hexid("shop-web") + "-json.log"),
           docker_line(f"{mark} docker 5 after restart\n", "stdout", t))
    expect(st, "docker", f"{mark} docker 5 after restart", 7, "shop-web",
           {"container_name": "shop-web", "stream": "stdout"}, ts=n)
    pod = os.path.join(work, "k8s", "pods",
                       f"shop_web-7d9f-abcde_uid-{hexid('web-7d9f-abcde')[:8]}", "app", "0.log")
    append(pod, f"{t} stdout F {mark} k8s 5 after restart\n")
    expect(st, "k8s", f"{mark} k8s 5 after restart", 7, "shop/web-7d9f-abcde/app",
           {"pod": "web-7d9f-abcde"}, ts=n)
    access = os.path.join(work, "nginx", "access.log")
    ta, na = nginx_local(now, 0)
    line = f'127.0.0.1 - - [{ta}] "GET /{mark}/after HTTP/1.1" 204 0 "-" "-"'
    append(access, line + "\n")
    expect(st, "nginx", line, 7, access, {"status": "204", "bytes": "0"}, ts=na)
    error = os.path.join(work, "nginx", "error.log")
    e_ns = now // 10**9 * 10**9
    m = f"{mark} nginx-err 3 after restart"
    append(error, time.strftime("%Y/%m/%d %H:%M:%S", time.gmtime(e_ns // 10**9)) +
           f" [notice] 1#1: {m}\n")
    expect(st, "nginx", m, 6, error, {"nginx_log": "error"}, ts=e_ns)
    regex_log = os.path.join(work, "logs", "regex.log")
    append(regex_log, f"{t} INFO [worker] {mark} regex 4 after restart\n")
    expect(st, "tail_regex", f"{mark} regex 4 after restart", 7, regex_log,
           {"component": "worker"}, ts=n)
    json_log = os.path.join(work, "logs", "app.json")
    append(json_log, json.dumps({"time": t, "level": "info",
                                 "msg": f"{mark} json 5 after restart"}) + "\n")
    expect(st, "tail_json", f"{mark} json 5 after restart", 7, json_log, {}, ts=n)


# ---------------------------------------------------------------- syslog

def syslog_udp(mark, st, port, now):
    t5424, n5424 = rfc3339(now - 150 * 60 * 10**9 + 500 * 10**6, digits=1)
    msgs = []
    m1 = f"{mark} syslog 1 invoice created"
    msgs.append((f'<134>1 {t5424} web-1.example.net billing 4242 INV01 '
                 f'[order@32473 id="A-17" note="q\\"x\\]"][meta sequence="9"] \ufeff{m1}'))
    expect(st, "syslog_udp", m1, 7, "syslog_udp",
           {"facility": "local0", "hostname": "web-1.example.net", "appname": "billing",
            "procid": "4242", "msgid": "INV01", "sd.order_32473.id": "A-17",
            "sd.order_32473.note": 'q"x]', "sd.meta.sequence": "9", "peer": None}, ts=n5424)
    secs = (now - 3600 * 10**9) // 10**9
    tm = time.gmtime(secs)
    t3164 = f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
    m2 = f"{mark} syslog 2 Failed password for root"
    msgs.append(f"<35>{t3164} gateway sshd[991]: {m2}\n")
    expect(st, "syslog_udp", m2, 4, "syslog_udp",
           {"facility": "auth", "hostname": "gateway", "appname": "sshd", "procid": "991",
            "peer": None}, ts=secs * 10**9, no_attrs=["msgid"])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    for m in msgs:
        s.sendto(m.encode(), ("127.0.0.1", port))
    s.close()


def syslog_tcp(mark, st, port, now):
    t, n = rfc3339(now - 100 * 60 * 10**9 + 123456000, digits=6)
    # Octet counting: frames may hold LFs; two frames in one write, an LF after each
    # (as many senders do), the third cut across two writes.
    m1 = f"{mark} tcp-octet 1 first line\nsecond line"
    m2 = f"{mark} tcp-octet 2 short"
    m3 = f"{mark} tcp-octet 3 [WARN] split across writes"
    frames = [f"<14>1 {t} app-host api 77 - - {m}".encode() for m in (m1, m2, m3)]
    wire = b"".join(str(len(f)).encode() + b" " + f + b"\n" for f in frames)
    cut = len(wire) - len(frames[2]) // 2
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(wire[:cut])
        time.sleep(0.2)
        c.sendall(wire[cut:])
    for m, lvl in ((m1, 7), (m2, 7), (m3, 7)):
        expect(st, "syslog_tcp", m, lvl, "syslog_tcp",
               {"facility": "user", "hostname": "app-host", "appname": "api", "procid": "77",
                "peer": None}, ts=n, no_attrs=["msgid"])
    # Newline framing: 5424 with NILVALUE time (stamped with the read time), CRLF, 3164, and
    # an unterminated last line kept when the sender closes.
    m4 = f"{mark} tcp-nl 1 no time of its own"
    m5 = f"{mark} tcp-nl 2 crlf ended"
    secs = (now - 20 * 60 * 10**9) // 10**9
    tm = time.gmtime(secs)
    m6 = f"{mark} tcp-nl 3 cron job done"
    t3164 = f"{MONTHS[tm.tm_mon - 1]} {tm.tm_mday} {tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d}"
    m7 = f"{mark} tcp-nl 4 last line without LF"
    wire = (f"<11>1 - web-2 shop - - - {m4}\n"
            f"<13>1 {t} web-2 shop - - - {m5}\r\n"
            f"<78>{t3164} cronhost CRON[5]: {m6}\n"
            f"<13>1 {t} web-2 shop - - - {m7}").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as c:
        c.sendall(wire)
    expect(st, "syslog_tcp", m4, 4, "syslog_tcp",
           {"facility": "user", "hostname": "web-2", "appname": "shop"}, ts_read=True)
    expect(st, "syslog_tcp", m5, 6, "syslog_tcp", {"facility": "user"}, ts=n)
    expect(st, "syslog_tcp", m6, 7, "syslog_tcp",
           {"facility": "cron", "hostname": "cronhost", "appname": "CRON", "procid": "5"},
           ts=secs * 10**9)
    expect(st, "syslog_tcp", m7, 6, "syslog_tcp", {"hostname": "web-2"}, ts=n)


# ---------------------------------------------------------------- agent socket

def sealed(ops_url, name):
    with urllib.request.urlopen(ops_url + "/metrics", timeout=10) as r:
        text = r.read().decode()
    total = 0
    for line in text.splitlines():
        if line.startswith("logflux_agent_sealed_records_total{") and f'input="{name}"' in line:
            total += int(float(line.split()[-1]))
    return total


class Client:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.buf = b""
        self.lines = 0

    def send(self, obj):
        self.lines += 1
        self.s.sendall((json.dumps(obj) if not isinstance(obj, str) else obj).encode() + b"\n")
        return self.lines

    def reply(self):
        """The next reply line (bounded by the socket timeout)."""
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("agent closed the socket")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


def socket_run(work, mark, sock_path, ops_url):
    st = load_state(work)
    now = time.time_ns()
    fails = []
    c = Client(sock_path)
    c.send({"action": "ping"})
    r = c.reply()
    if r != {"status": "pong"}:
        fails.append(f"ping answered {r}")

    want = 0
    # An SDK entry.
    ts1, n1 = rfc3339(now - 90 * 60 * 10**9 + 4242, digits=9)
    m1 = f"{mark} sock 1 sdk entry"
    line = c.send({"payload": m1, "source": "billing-svc", "timestamp": ts1, "logLevel": 4,
                   "entryType": 1, "payloadType": "generic", "version": "1.0",
                   "metadata": {"order": "A-17", "attempt": 3, "retry": True, "gone": None}})
    expect(st, "sock", m1, 4, "billing-svc", {"order": "A-17", "attempt": "3", "retry": "true"},
           ts=n1, no_attrs=["gone", "entry_type"])
    want += 1
    check_ack(c, line, 1, ops_url, want, fails)

    # A batch mixing SDK entries and plain objects.
    ts2, n2 = rfc3339(now - 80 * 60 * 10**9, digits=3)
    n3 = (now - 75 * 60 * 10**9) // 10**6 * 10**6
    entries = [
        {"payload": f"{mark} sock 2 batch audit", "logLevel": 6, "entryType": 5,
         "timestamp": ts2, "source": "auditor"},
        {"message": f"{mark} sock 3 batch plain", "level": "warning", "ts": n3 // 10**6,
         "labels": {"k": "v"}, "logger": "pkg.mod"},
        {"message": f"{mark} sock 4 batch no time"},
    ]
    line = c.send({"entries": entries, "version": "1.0"})
    expect(st, "sock", entries[0]["payload"], 6, "auditor", {"entry_type": "audit"}, ts=n2)
    expect(st, "sock", entries[1]["message"], 5, "sock", {"k": "v"}, ts=n3)
    expect(st, "sock", entries[2]["message"], 7, "sock", {}, ts_read=True)
    want += 3
    check_ack(c, line, 3, ops_url, want, fails)

    # A refused line (empty payload) is answered with an error and stores nothing; the
    # connection stays usable.
    line = c.send({"payload": "", "logLevel": 3})
    r = c.reply()
    if r.get("status") != "error" or r.get("line") != line:
        fails.append(f"empty payload: expected an error for line {line}, got {r}")
    m5 = f"{mark} sock 5 plain object"
    line = c.send({"message": m5, "level": "error", "attributes": {"user": "bob"}})
    expect(st, "sock", m5, 4, "sock", {"user": "bob"}, ts_read=True)
    want += 1
    check_ack(c, line, 1, ops_url, want, fails)
    c.s.close()
    save_state(work, st)
    for f in fails:
        print("FAIL: socket: " + f, file=sys.stderr)
    return 1 if fails else 0


def check_ack(c, line, accepted, ops_url, want_sealed, fails):
    try:
        r = c.reply()
    except Exception as e:  # timeout or close: no ack within 30 s
        fails.append(f"no ack for line {line}: {e}")
        return
    if r != {"status": "ok", "line": line, "accepted": accepted}:
        fails.append(f"line {line}: expected ok/accepted {accepted}, got {r}")
        return
    # The ack promises the records are sealed into the disk buffer: the counter the pipeline
    # bumps before commit() must already include them.
    have = sealed(ops_url, "sock")
    if have < want_sealed:
        fails.append(f"ack for line {line} came before its records were sealed "
                     f"({have} of {want_sealed} sealed)")


# ---------------------------------------------------------------- verify

def verify(work, mark, rows_path):
    st = load_state(work)
    with open(rows_path) as f:
        rows = [json.loads(l) for l in f if l.strip()]
    rows = [r for r in rows if mark in r["message"]]
    by_msg = {}
    for r in rows:
        by_msg.setdefault(r["message"], []).append(r)
    fails = []
    expected = {e["message"] for e in st["records"]}
    t_lo, t_hi = st["start_ns"], time.time_ns()
    for e in st["records"]:
        got = by_msg.get(e["message"], [])
        what = f"[{e['input']}] {e['message'][:70]!r}"
        if len(got) != 1:
            fails.append(f"{what}: stored {len(got)} times")
            continue
        r = got[0]
        attrs = r.get("attributes", {})
        if e["level"] is not None and r["level"] != e["level"]:
            fails.append(f"{what}: level {r['level']}, expected {e['level']}")
        if r["source"] != e["source"]:
            fails.append(f"{what}: source {r['source']!r}, expected {e['source']!r}")
        for k, v in {**e["attrs"], "env": "e2e"}.items():
            if k not in attrs:
                fails.append(f"{what}: label {k} missing (labels {attrs})")
            elif v is not None and attrs[k] != v:
                fails.append(f"{what}: label {k}={attrs[k]!r}, expected {v!r}")
        for k in e["no_attrs"]:
            if k in attrs:
                fails.append(f"{what}: unexpected label {k}={attrs[k]!r}")
        if "peer" in e["attrs"] and not attrs.get("peer", "").startswith("127.0.0.1:"):
            fails.append(f"{what}: peer {attrs.get('peer')!r} is not 127.0.0.1:<port>")
        ts = parse_rfc3339(r["ts"])
        if e["ts"] is not None and ts != e["ts"]:
            fails.append(f"{what}: ts {r['ts']}, expected {rfc3339(e['ts'])[0]}")
        if e["ts_read"] and not t_lo - 10**9 <= ts <= t_hi:
            fails.append(f"{what}: ts {r['ts']} is not the read time")
    for m, got in sorted(by_msg.items()):
        if m not in expected:
            fails.append(f"unexpected record {m[:100]!r} ({len(got)}x, source {got[0]['source']})")
    for f in fails:
        print("FAIL: " + f, file=sys.stderr)
    print(f"{len(st['records'])} expected records, {len(rows)} stored rows with the marker, "
          f"{len(fails)} mismatches")
    return 1 if fails else 0


# ---------------------------------------------------------------- main

def free_ports(n):
    """n ports free for both TCP and UDP on 127.0.0.1 (bound, then closed)."""
    ports, held = [], []
    for _ in range(200):
        if len(ports) == n:
            break
        t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        t.bind(("127.0.0.1", 0))
        p = t.getsockname()[1]
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            u.bind(("127.0.0.1", p))
        except OSError:
            t.close()
            u.close()
            continue
        held += [t, u]
        ports.append(p)
    for s in held:
        s.close()
    return ports


def main(argv):
    cmd = argv[1]
    if cmd == "ports":
        print(" ".join(map(str, free_ports(int(argv[2])))))
        return 0
    work, mark = argv[2], argv[3]
    now = time.time_ns()
    if cmd == "prepare":
        st = {"start_ns": now, "records": []}
        journald_prepare(work, mark, st, now)
        docker_prepare(work, mark, st, now)
        k8s_prepare(work, mark, st, now)
        nginx_prepare(work, mark, st, now)
        tail_prepare(work, mark, st, now)
        save_state(work, st)
        return 0
    if cmd == "live":
        st = load_state(work)
        syslog_udp(mark, st, int(argv[4]), now)
        syslog_tcp(mark, st, int(argv[5]), now)
        journald_live(work, mark, st, now)
        docker_live(work, mark, st, now)
        k8s_live(work, mark, st, now)
        tail_live(work, mark, st, now)
        save_state(work, st)
        return 0
    if cmd == "restart":
        st = load_state(work)
        after_restart(work, mark, st, now)
        save_state(work, st)
        return 0
    if cmd == "socket":
        return socket_run(work, mark, argv[4], argv[5])
    if cmd == "verify":
        return verify(work, mark, argv[4])
    print(f"unknown command {cmd}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
