"""Runs the benchmarks side by side and rewrites BENCHMARKS.md.

Called by bench/run; each command runs several times and the median is reported, with
ratios taken within the same run (absolute times drift on a shared machine).
"""
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def timed(cmd, runs, check):
    times = []
    out = None
    for _ in range(runs):
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if proc.returncode not in (0,):
            sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd[:3])}…\n{proc.stderr[-2000:]}")
        out = proc.stdout
    check(out)
    return statistics.median(times), times


def machine():
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        with open("/proc/meminfo") as f:
            kb = int(f.readline().split()[1])
            mem = f"{kb / 1024 / 1024:.0f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    rustc = subprocess.run(["rustc", "--version"], capture_output=True, text=True).stdout.strip()
    return f"{os.cpu_count()} cores ({model}), {mem} RAM, {platform.system()} {platform.release()}, {rustc}, Python {platform.python_version()}"


def ingest(work, n):
    forms = sorted(os.path.join(work, "forms", f) for f in os.listdir(os.path.join(work, "forms")))
    assert len(forms) == n, f"expected {n} forms"
    uketsuke = [os.path.join(ROOT, "target/release/uketsuke"), "--config", os.path.join(ROOT, "config"),
                "import", "--dry-run", "--json", *forms]
    calamine = [os.path.join(ROOT, "target/release/calamine-bare"), *forms]
    openpyxl = [sys.executable, os.path.join(ROOT, "bench/openpyxl_forms.py"), *forms]

    def check_uketsuke(out):
        files = json.loads(out)["files"]
        requests = sum(len(f["requests"]) for f in files)
        errors = sum(len(f["errors"]) for f in files)
        assert requests == n and errors == 0, f"uketsuke read {requests} requests, {errors} errors"

    def check_openpyxl(out):
        assert int(out) == n, f"openpyxl read {out} forms fully"

    def check_calamine(out):
        assert int(out) > n, "calamine read no cells"

    u, u_all = timed(uketsuke, 5, check_uketsuke)
    c, c_all = timed(calamine, 5, check_calamine)
    o, o_all = timed(openpyxl, 3, check_openpyxl)
    return [
        ("uketsuke import --dry-run --json (all fields, checked)", u, u_all),
        ("bare calamine (open + read every cell, no parsing)", c, c_all),
        ("openpyxl script (load + find the same labels)", o, o_all),
    ]


def issuance(pg_url):
    out = []
    for target in ["sqlite", pg_url]:
        proc = subprocess.run([os.path.join(ROOT, "target/release/issue-bench"), target, "32", "1000"],
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"issue-bench failed: {proc.stderr[-2000:]}")
        out.append(json.loads(proc.stdout))
    return out


def startup(runs=5):
    """Launch to /healthz 200 on a fresh SQLite file (migrations included)."""
    import tempfile
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            server = Server(f"sqlite://{tmp}/u.sqlite?mode=rwc", os.path.join(tmp, "serve.log"))
            try:
                times.append(server.start(timeout=30))
            finally:
                server.stop()
    return statistics.median(times), times


def run_with_peak(cmd, cwd=None):
    """Runs cmd to the end; returns (seconds, peak RSS in MiB, stdout)."""
    import tempfile
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            sys.exit(f"command failed ({proc.returncode}): {' '.join(cmd[:3])}…\n{err.read().decode()[-2000:]}")
        return seconds, usage.ru_maxrss / 1024, out.read().decode()


def export(work, n_rows=50_000):
    """The 一覧表 of n_rows rows by uketsuke-export, XlsxWriter and openpyxl, from the same
    JSON; each file is read back with openpyxl (row count, a code, a date format)."""
    rows = os.path.join(work, "rows.json")
    subprocess.run([os.path.join(ROOT, "target/release/export-list"), "make", rows, str(n_rows)], check=True)
    bench_dir = os.path.join(ROOT, "bench")
    writers = [
        ("uketsuke (rust_xlsxwriter, constant memory)", [os.path.join(ROOT, "target/release/export-list"), "write"], 5),
        ("Python XlsxWriter (constant memory)", [sys.executable, os.path.join(bench_dir, "xlsxwriter_list.py")], 3),
        ("Python openpyxl (write-only, named styles)", [sys.executable, os.path.join(bench_dir, "openpyxl_list.py")], 3),
    ]
    results = []
    for name, cmd, runs in writers:
        out = os.path.join(work, f"list-{len(results)}.xlsx")
        times, peaks = [], []
        for _ in range(runs):
            seconds, peak, stdout = run_with_peak([*cmd, rows, out], cwd=bench_dir)
            assert int(stdout) == n_rows, f"{name} wrote {stdout!r} rows"
            times.append(seconds)
            peaks.append(peak)
        check_list(out, n_rows)
        results.append((name, statistics.median(times), times, max(peaks), os.path.getsize(out)))
    return n_rows, results


def check_list(path, n_rows):
    """Reads a written 一覧表 back with openpyxl: every row, codes as text, 和暦 dates."""
    import openpyxl
    wb = openpyxl.load_workbook(path, read_only=True)
    ws = wb.worksheets[0]
    count = 0
    for i, row in enumerate(ws.iter_rows(min_row=5, values_only=False)):
        count += 1
        if i == 0:
            code = row[4]
            assert isinstance(code.value, str) and len(code.value) == 10, f"{path}: code {code.value!r}"
            assert "ggge" in row[13].number_format, f"{path}: date format {row[13].number_format}"
    assert count == n_rows, f"{path}: {count} data rows"
    wb.close()


# ───────────────────────────── web under load ─────────────────────────────

NAME_KEY = "さくら内科"
# Typed without the space the data holds (佐藤 太郎): one founder in 80 at national scale.
FOUNDER_KEY = "佐藤太郎"


def wrk_seconds(text):
    value, unit = float(text[:-2] if text.endswith(("us", "ms")) else text[:-1]), text[-2:] if text.endswith(("us", "ms")) else text[-1:]
    return value * {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}[unit]


def cpu_by_pid(pids):
    """{pid: user + system CPU seconds so far} of the processes still running."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return out


def database_backends(dbname):
    """The PostgreSQL backends serving `dbname` (their title is "postgres: user db …")."""
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                title = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if title.startswith("postgres: ") and f" {dbname} " in title:
            pids.append(int(entry))
    return pids


class CpuMeter:
    """CPU seconds spent by the server process (and, on PostgreSQL, by the backends
    serving the bench database) between `start` and `stop`."""

    def __init__(self, server_pid, dbname=None):
        self.server_pid = server_pid
        self.dbname = dbname

    def _sample(self):
        backends = database_backends(self.dbname) if self.dbname else []
        return cpu_by_pid([self.server_pid]), cpu_by_pid(backends)

    def start(self):
        self.before = self._sample()

    def stop(self):
        (server0, db0), (server1, db1) = self.before, self._sample()
        server = sum(v - server0.get(p, 0.0) for p, v in server1.items())
        database = sum(v - db0.get(p, 0.0) for p, v in db1.items())
        return server, database


def wrk(url, header, connections, duration, meter=None):
    """`header` is the credential: "Cookie: …" for a page, "Authorization: Bearer …" for the API.
    With a `meter`, also the CPU milliseconds per request served (server, database)."""
    import re
    if meter:
        meter.start()
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s",
           "-s", os.path.join(ROOT, "bench/wrk_status.lua"), "-H", header, url]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    pct = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    if "50" not in pct:
        sys.exit(f"wrk gave no latencies for {url} at {connections} connections:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    errors = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    errors += int(re.search(r"NOT200 (\d+)", out).group(1))
    result = {"rps": rps, "p50": wrk_seconds(pct["50"]), "p99": wrk_seconds(pct["99"]), "requests": total,
              "errors": errors}
    if meter:
        server, database = meter.stop()
        result["cpu_ms"] = server * 1000 / max(total, 1)
        result["db_cpu_ms"] = database * 1000 / max(total, 1)
    return result


class Server:
    """uketsuke serve on a free loopback port, for one database."""

    def __init__(self, database_url, log_path):
        import socket
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = dict(os.environ, DATABASE_URL=database_url, UKETSUKE_CONFIG_DIR=os.path.join(ROOT, "config"),
                        UKETSUKE_SCHEDULE__ENABLED="false", RUST_LOG="warn")
        self.log = open(log_path, "w")
        self.proc = None

    def cli(self, *args, stdin=None):
        proc = subprocess.run([os.path.join(ROOT, "target/release/uketsuke"), *args], env=self.env,
                              input=stdin, capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"uketsuke {' '.join(args)} failed: {proc.stderr[-2000:]}")
        return proc.stdout

    def start(self, timeout=60):
        """Launches the server; returns the seconds from launch to /healthz 200."""
        import urllib.request
        start = time.perf_counter()
        self.proc = subprocess.Popen([os.path.join(ROOT, "target/release/uketsuke"), "serve", "--bind",
                                      f"127.0.0.1:{self.port}"], env=self.env, stdout=self.log, stderr=self.log)
        while time.perf_counter() - start < timeout:
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return time.perf_counter() - start
            except OSError:
                time.sleep(0.002)
        sys.exit(f"the server did not answer /healthz within {timeout} s")

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
        self.log.close()


class NoRedirect(__import__("urllib.request").request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def login(base, username, password):
    """Signs in like a browser; returns the session cookie ("name=value")."""
    import http.cookiejar
    import re
    import urllib.parse
    import urllib.request
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    page = opener.open(f"{base}/login").read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode({"csrf": csrf, "username": username, "password": password}).encode()
    try:
        opener.open(f"{base}/login", body)
    except urllib.error.HTTPError as e:
        assert e.code == 303 and e.headers["location"] == "/dashboard", f"login failed: {e.code}"
    cookie = next(c for c in jar if c.name == "uketsuke_session")
    return f"{cookie.name}={cookie.value}"


def fetch(url, header):
    import urllib.request
    opener = urllib.request.build_opener(NoRedirect)
    name, value = header.split(": ", 1)
    request = urllib.request.Request(url, headers={name: value})
    with opener.open(request) as r:
        assert r.status == 200, f"{url}: {r.status}"
        return r.read().decode()


def web(pg_admin_url, facilities, requests, runs, duration, connections=(1, 16, 64)):
    import re
    import tempfile
    import urllib.parse
    out = []
    for backend in ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                url = f"sqlite://{tmp}/scale.sqlite?mode=rwc"
            else:
                subprocess.run(["psql", pg_admin_url, "-q", "-c", "DROP DATABASE IF EXISTS uketsuke_bench",
                                "-c", "CREATE DATABASE uketsuke_bench"], check=True, capture_output=True)
                url = pg_admin_url.rsplit("/", 1)[0] + "/uketsuke_bench"
            server = Server(url, os.path.join(tmp, "serve.log"))
            start = time.perf_counter()
            report = json.loads(server.cli("demo", "generate", "--facilities", str(facilities),
                                           "--requests", str(requests)))
            generated = time.perf_counter() - start
            if backend == "postgresql":
                # Write the bulk load's dirty pages now: a checkpoint spread over the
                # first minutes (212 s in one run) skewed the first pages' p99.
                subprocess.run(["psql", pg_admin_url, "-q", "-c", "CHECKPOINT"], check=True, capture_output=True)
            password = "bench-password-0123"
            server.cli("user", "add", "bench", "--role", "approver", "--bureau", "kanto-shinetsu",
                       stdin=password + "\n")
            server.start()
            try:
                cookie = "Cookie: " + login(server.base, "bench", password)
                bearer = "Authorization: Bearer " + server.cli("token", "create", "bench", "--label", "bench").strip()
                listing = fetch(f"{server.base}/cases", cookie)
                case_id = re.search(r'href="/cases/(\d+)"', listing).group(1)
                # A rare name (one facility's whole name: the generated names end in their
                # serial, so one of six digits is no other name's substring: one match) and a
                # 受付番号 prefix (prefecture, 点数表 and district: the first five digits).
                names = [i["facility"]["name"] for i in json.loads(fetch(f"{server.base}/api/v1/requests",
                                                                         bearer))["items"]]
                rare = next((n for n in names if re.search(r"\D\d{6}$", n)), names[0])
                numbered = json.loads(fetch(f"{server.base}/api/v1/requests?status=issued", bearer))["items"]
                prefix = next(i["number"] for i in numbered if i["number"])[:5]
                q = urllib.parse.quote
                pages = [
                    ("static page (the floor): /static/site.css", "/static/site.css", None, cookie),
                    ("case list, first page: /cases", "/cases", "件以上のうち", cookie),
                    (f"name search 「{NAME_KEY}」: /cases?name=…", f"/cases?name={q(NAME_KEY)}", "件中", cookie),
                    (f"rare name 「{rare}」: /cases?name=…", f"/cases?name={q(rare)}",
                     "1 件中" if re.search(r"\D\d{6}$", rare) else "件中", cookie),
                    (f"開設者 「{FOUNDER_KEY}」: /cases?founder=…", f"/cases?founder={q(FOUNDER_KEY)}", "件中", cookie),
                    (f"受付番号 prefix 「{prefix}」: /cases?code=…", f"/cases?code={prefix}", "件", cookie),
                    ("case page: /cases/{id}", f"/cases/{case_id}", "履歴", cookie),
                    ("API list, first page: /api/v1/requests", "/api/v1/requests", '"total"', bearer),
                    (f"API name search 「{NAME_KEY}」: /api/v1/requests?name=…", f"/api/v1/requests?name={q(NAME_KEY)}",
                     '"total"', bearer),
                    ("API case: /api/v1/requests/{id}", f"/api/v1/requests/{case_id}", '"history"', bearer),
                ]
                load = f"{os.getloadavg()[0]:.1f}"
                meter = CpuMeter(server.proc.pid, "uketsuke_bench" if backend == "postgresql" else None)
                rows = []
                for label, path, marker, header in pages:
                    body = fetch(server.base + path, header)
                    assert marker is None or marker in body, f"{path}: no {marker!r} in the page"
                    # Warm up: every pooled connection's page cache, the server's pool.
                    wrk(server.base + path, header, 16, 2)
                    for c in connections:
                        trials = [wrk(server.base + path, header, c, duration, meter) for _ in range(runs)]
                        trials.sort(key=lambda t: t["rps"])
                        median = dict(trials[len(trials) // 2])
                        median["errors"] = sum(t["errors"] for t in trials)
                        median["all_p99"] = [t["p99"] for t in trials]
                        median["all_cpu"] = [t["cpu_ms"] for t in trials]
                        median["all_db_cpu"] = [t["db_cpu_ms"] for t in trials]
                        # CPU per request: the median of the runs (robust to other load).
                        median["cpu_ms"] = statistics.median(median["all_cpu"])
                        median["db_cpu_ms"] = statistics.median(median["all_db_cpu"])
                        print(f"{backend} {path[:40]} c={c}: {median['rps']:.0f}/s p50 {median['p50'] * 1000:.1f} ms "
                              f"p99 {median['p99'] * 1000:.1f} ms errors {median['errors']} "
                              f"cpu {median['cpu_ms']:.2f} ms/req (db {median['db_cpu_ms']:.2f})", file=sys.stderr)
                        rows.append((label, c, median))
                out.append({"backend": backend, "generate": report, "generate_wall": generated, "rows": rows,
                            "load": load})
            finally:
                server.stop()
            if backend == "postgresql":
                subprocess.run(["psql", pg_admin_url, "-q", "-c", "DROP DATABASE IF EXISTS uketsuke_bench"],
                               check=True, capture_output=True)
    return out


def make_list(path, rows):
    """A monthly list (月ごとの一覧表) of `rows` requests in 東京都, written by openpyxl."""
    from openpyxl import Workbook
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("令和8年11月受付")
    ws.append(["受付番号情報提供依頼 受付一覧（令和8年11月）"])
    ws.append([])
    ws.append(["項番", "施設名", "区分", "〒", "住所", "指定日", "提出日", "開設者名", "保険医登録番号",
               "担当者電話", "送付先郵便番号", "送付先住所", "送付先氏名"])
    kinds = ["医科", "歯科", "薬局"]
    for i in range(rows):
        ws.append([i + 1, f"取込ベンチ{kinds[i % 3]}{i}", kinds[i % 3], "160-0023",
                   f"東京都新宿区西新宿2-8-{i % 90 + 1}", f"令和9年{i % 12 + 1}月1日", "令和8年11月2日",
                   f"資格 太郎{i}", None, "03-5321-1111", None, None, None])
    wb.save(path)


def big_cell_workbook(path, cell_mib=150):
    """The issue's hostile upload: a small .xlsx (well under every size limit) whose one
    shared string expands to `cell_mib` MiB."""
    import zipfile
    # Random あ/い: one bit of entropy per 3-byte character, so the cell compresses about
    # 20 times — within the default limits (20 MiB file, ratio 100), as in the issue.
    table = ["".join("あい"[(b >> k) & 1] for k in range(8)) for b in range(256)]
    text = "".join(table[b] for b in os.urandom(cell_mib * 1024 * 1024 // 24))
    parts = {
        "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
        "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="別紙1" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1"><c r="A1" t="s"><v>0</v></c></row></sheetData></worksheet>',
        "xl/sharedStrings.xml": '<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="1"><si><t>' + text + "</t></si></sst>",
    }
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        for name, body in parts.items():
            z.writestr(name, body)


def proc_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak(pid):
    """Resets the process's peak resident size (VmHWM) to its current size."""
    with open(f"/proc/{pid}/clear_refs", "w") as f:
        f.write("5")


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Browser:
    """A signed-in session driven like a browser (cookies, CSRF, no automatic redirects)."""

    def __init__(self, base, username, password):
        import http.cookiejar
        import urllib.request
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), NoRedirect)
        page = self.get("/login")
        self.post("/login", {"csrf": self.csrf(page), "username": username, "password": password})

    @staticmethod
    def csrf(page):
        import re
        return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

    def get(self, path):
        with self.opener.open(self.base + path) as r:
            return r.read().decode()

    def post(self, path, fields):
        import urllib.error
        import urllib.parse
        try:
            with self.opener.open(self.base + path, urllib.parse.urlencode(fields).encode()) as r:
                return r.status, r.read().decode(), None
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(), e.headers.get("location")

    def upload(self, file_path):
        import urllib.error
        import urllib.request
        csrf = self.csrf(self.get("/requests/upload"))
        boundary = "----uketsuke-bench-boundary"
        with open(file_path, "rb") as f:
            data = f.read()
        body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n"
                f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{os.path.basename(file_path)}\"\r\n"
                "Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n").encode() \
            + data + f"\r\n--{boundary}--\r\n".encode()
        request = urllib.request.Request(self.base + "/requests/upload", body,
                                         {"Content-Type": f"multipart/form-data; boundary={boundary}"})
        try:
            with self.opener.open(request) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()


def uploads(pg_admin_url, facilities, requests, rows=10_000, hostile_mib=150, parallel=4):
    """A 10,000-request monthly list previewed and confirmed on a database already holding
    the national-scale data; then the hostile one-cell workbook uploaded four at once.
    Server CPU time and peak resident memory from /proc."""
    import re
    import tempfile
    import threading
    out = []
    for backend in ["sqlite", "postgresql"]:
        with tempfile.TemporaryDirectory() as tmp:
            if backend == "sqlite":
                url = f"sqlite://{tmp}/scale.sqlite?mode=rwc"
            else:
                subprocess.run(["psql", pg_admin_url, "-q", "-c", "DROP DATABASE IF EXISTS uketsuke_bench",
                                "-c", "CREATE DATABASE uketsuke_bench"], check=True, capture_output=True)
                url = pg_admin_url.rsplit("/", 1)[0] + "/uketsuke_bench"
            server = Server(url, os.path.join(tmp, "serve.log"))
            server.cli("demo", "generate", "--facilities", str(facilities), "--requests", str(requests))
            if backend == "postgresql":
                subprocess.run(["psql", pg_admin_url, "-q", "-c", "CHECKPOINT"], check=True, capture_output=True)
            password = "bench-password-0123"
            server.cli("user", "add", "torikomi", "--role", "clerk", "--bureau", "kanto-shinetsu",
                       stdin=password + "\n")
            list_path = os.path.join(tmp, "ichiran.xlsx")
            make_list(list_path, rows)
            hostile = os.path.join(tmp, "hostile.xlsx")
            big_cell_workbook(hostile, hostile_mib)
            server.start()
            try:
                pid = server.proc.pid
                browser = Browser(server.base, "torikomi", password)
                idle_kib = proc_kib(pid, "VmRSS")
                # The list: preview, then confirm and follow the job to its end.
                reset_peak(pid)
                cpu0, t0 = cpu_seconds(pid), time.perf_counter()
                status, preview = browser.upload(list_path)
                assert status == 200 and f"読み取った依頼（{rows}件）" in preview, preview[-2000:]
                preview_s, preview_cpu = time.perf_counter() - t0, cpu_seconds(pid) - cpu0
                action = re.search(r'action="(/requests/upload/[^"/]+)"', preview).group(1)
                cpu1, t1 = cpu_seconds(pid), time.perf_counter()
                status, _, location = browser.post(action, {"csrf": Browser.csrf(preview), "scope": "all"})
                assert status == 303 and location.startswith("/requests/upload/jobs/"), (status, location)
                answered_s = time.perf_counter() - t1
                while "登録中です" in (page := browser.get(location)):
                    time.sleep(0.05)
                saved_s, saved_cpu = time.perf_counter() - t1, cpu_seconds(pid) - cpu1
                assert f"{rows}件を登録しました" in page, page[-2000:]
                list_peak = proc_kib(pid, "VmHWM")
                # The hostile workbook, `parallel` at once.
                reset_peak(pid)
                answers = []

                def send():
                    answers.append(browser.upload(hostile))
                threads = [threading.Thread(target=send) for _ in range(parallel)]
                t2 = time.perf_counter()
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                hostile_s = time.perf_counter() - t2
                hostile_peak = proc_kib(pid, "VmHWM")
                refused = sum(1 for st, body in answers if st in (200, 413, 422) and "文字数が上限" in body)
                sizes = [len(body.encode()) for _, body in answers]
                out.append({"backend": backend, "rows": rows, "preview_s": preview_s, "preview_cpu": preview_cpu,
                            "answered_s": answered_s, "saved_s": saved_s, "saved_cpu": saved_cpu,
                            "idle_mib": idle_kib / 1024, "list_peak_mib": list_peak / 1024,
                            "hostile_mib": hostile_mib, "hostile_file_kib": os.path.getsize(hostile) / 1024,
                            "parallel": parallel, "hostile_s": hostile_s, "hostile_peak_mib": hostile_peak / 1024,
                            "refused": refused, "largest_answer_kib": max(sizes) / 1024})
                print(f"{backend}: {out[-1]}", file=sys.stderr)
            finally:
                server.stop()
            if backend == "postgresql":
                subprocess.run(["psql", pg_admin_url, "-q", "-c", "DROP DATABASE IF EXISTS uketsuke_bench"],
                               check=True, capture_output=True)
    return out


def uploads_section(measured, scale):
    facilities, requests = scale
    lines = [
        f"## Large uploads and hostile ones: a {measured[0]['rows']:,}-request list, and a one-cell bomb",
        "",
        f"On a database already holding `demo generate --facilities {facilities} --requests {requests}`,",
        f"a clerk of 関東信越 uploads a monthly list of {measured[0]['rows']:,} requests (openpyxl), previews",
        "it, confirms it, and follows the import job's page until it says the requests are saved",
        "(one duplicate look-up per 500 requests, audit entries in batches, all in one",
        "transaction). Then the hostile workbook of issue 12 — a small .xlsx within every size",
        f"limit whose one cell expands to {measured[0]['hostile_mib']} MiB — is uploaded {measured[0]['parallel']} times at once.",
        "CPU is the server process's user + system time over the step (/proc/PID/stat); peak",
        "memory is its VmHWM over the step (reset before it through /proc/PID/clear_refs).",
        "Goal: 10,000 requests saved in seconds; hostile uploads refused plainly with memory bounded.",
        "",
        "| database | preview (s) | preview CPU (s) | confirm answered (s) | saved (s) | save CPU (s) | idle RSS (MiB) | peak RSS (MiB) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in measured:
        lines.append(f"| {m['backend']} | {m['preview_s']:.2f} | {m['preview_cpu']:.2f} | {m['answered_s']:.2f} | "
                     f"{m['saved_s']:.2f} | {m['saved_cpu']:.2f} | {m['idle_mib']:.0f} | {m['list_peak_mib']:.0f} |")
    lines += ["", "| database | hostile file (KiB) | uploads at once | refused plainly | all answered in (s) | largest answer (KiB) | peak RSS (MiB) |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for m in measured:
        lines.append(f"| {m['backend']} | {m['hostile_file_kib']:.0f} | {m['parallel']} | {m['refused']} of {m['parallel']} | "
                     f"{m['hostile_s']:.2f} | {m['largest_answer_kib']:.1f} | {m['hostile_peak_mib']:.0f} |")
    lines.append("")
    return lines


def write(results, n, issued, boot, exported, loaded, scale, uploaded):
    (u_name, u, _), (_, c, _), (_, o, _) = results
    lines = [
        "# Benchmarks",
        "",
        "Figures from `bench/run` (one command: it builds in release, generates the workload, runs",
        "every measurement side by side and rewrites this file). Medians of several runs; ratios are",
        "taken within the same run, since absolute times drift on a shared machine.",
        "",
        f"- Date: {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Machine: {machine()}",
        "- Reproduce: `bench/run` from the repository root (it installs `wrk` with apt-get and openpyxl,",
        "  XlsxWriter with pip if they are missing, and starts PostgreSQL if it is down).",
        "",
        f"## Ingest: {n} filled 別紙1 forms (.xlsx, our own layout)",
        "",
        "| reader | median (s) | per form (ms) | runs (s) |",
        "|---|---:|---:|---|",
    ]
    for name, median, runs in results:
        lines.append(f"| {name} | {median:.3f} | {median / n * 1000:.2f} | {', '.join(f'{t:.3f}' for t in runs)} |")
    lines += [
        "",
        f"- uketsuke is **{o / u:.1f}×** faster than the openpyxl script (goal: ≥ 20×).",
        f"- uketsuke takes **{u / c:.2f}×** the time of bare calamine (goal: ≤ 1.5×).",
        "- Each run is one process over all files (start-up included), reading every field by its",
        "  printed label and validating it with the domain parsers; the JSON output is checked to hold",
        f"  {n} requests and no errors, and the openpyxl script to have read every form.",
        "",
    ]
    if u / c > 1.5:
        lines += [
            "### Why ingest is more than 1.5× bare calamine (profile)",
            "",
            "`perf record -g target/release/uketsuke import --dry-run --json forms/*.xlsx` (1,000 forms):",
            "no single hot spot. About half the samples are inside calamine and zlib, as for the bare",
            "reader; the rest is what the bare reader does not do: reading each cell's formula flag with",
            "its value (`next_cell_with_formula_metadata`, so a formula in a field is reported), the zip",
            "guard that reads the central directory and the first KiB of sharedStrings before calamine",
            "(zip bombs, absurd string counts), building the sparse grid (malloc/free/memmove ≈ 15 %),",
            "and classifying each sheet as form or list and finding labels (`text::key`,",
            "`form::classify`, `list::find_header` ≈ 5 %). Start-up with the configuration is 9 ms.",
            "The guards are requirements of the ingest issue; the remaining gap is left as measured.",
            "",
        ]
    lines += [
        "## Issuance: 1,000 numbers from 32 concurrent clients, one district (worst case)",
        "",
        "`target/release/issue-bench URL 32 1000` on a fresh database: each issuance is one",
        "transaction guarded by the unique index (PostgreSQL: plus an advisory lock per district).",
        "",
        "| database | issued | distinct | valid | seconds | issuances/s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in issued:
        lines.append(f"| {r['backend']} | {r['issued']} | {r['distinct']} | {r['valid']} | {r['seconds']:.2f} | {r['per_second']:.0f} |")
    clean = all(r["distinct"] == r["issued"] == r["valid"] for r in issued)
    lines += [
        "",
        ("No duplicates: distinct = issued on both, every code passes the check digit (counted above)."
         if clean else
         "**DUPLICATES OR INVALID CODES**: distinct or valid differs from issued above."),
        "",
        "## Start-up: launch to `/healthz` 200 on a fresh SQLite file (migrations included)",
        "",
        f"Median of {len(boot[1])}: **{boot[0] * 1000:.0f} ms** (runs: {', '.join(f'{t * 1000:.0f}' for t in boot[1])} ms; goal < 1 s).",
        "",
    ]
    lines += export_section(*exported)
    lines += web_section(loaded, scale)
    lines += uploads_section(uploaded, scale[:2])
    with open(os.path.join(ROOT, "BENCHMARKS.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def export_section(n_rows, results):
    (_, u, _, u_peak, _), (_, x, _, _, _), (_, o, _, _, _) = results
    lines = [
        f"## Export: the 一覧表 of {n_rows:,} rows (.xlsx, house style)",
        "",
        "`target/release/export-list make rows.json 50000` writes the rows once as JSON; then",
        "each writer reads that JSON and writes the same cells with the same formats (Arial 10,",
        "codes as text, 和暦 date format, shaded header, borders by one conditional format,",
        "fitted widths, frozen panes, autofilter, A4 landscape print setup). Whole process,",
        "start-up included; peak memory is the process's maximum resident set (wait4, as",
        "`/usr/bin/time -v`). Every file is read back with openpyxl: all rows, codes as text,",
        "the 和暦 date format.",
        "",
        "| writer | median (s) | peak memory (MiB) | file (MB) | runs (s) |",
        "|---|---:|---:|---:|---|",
    ]
    for name, median, runs, peak, size in results:
        lines.append(f"| {name} | {median:.2f} | {peak:.0f} | {size / 1e6:.1f} | {', '.join(f'{t:.2f}' for t in runs)} |")
    lines += [
        "",
        f"- uketsuke is **{x / u:.1f}×** faster than XlsxWriter (goal ≥ 10×) and **{o / u:.1f}×** faster than",
        f"  openpyxl; its peak memory is **{u_peak:.0f} MiB** (goal < 100 MB).",
        "- uketsuke deflates at level 3 (XlsxWriter and openpyxl at Python's default, 6): the file is",
        "  larger, the writing faster (measured in `crates/export/src/list.rs`: 0.4 s instead of 0.6 s).",
        "",
    ]
    return lines


def web_section(loaded, scale):
    facilities, requests, runs, duration = scale
    lines = [
        f"## Web under load: {facilities:,} registry codes, {requests:,} requests (ten years, eight bureaus)",
        "",
        f"Measured {datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} on {machine()};",
        "1-minute load average when each database's runs began: "
        + ", ".join(f"{b['backend']} {b['load']}" for b in loaded) + f"; when they ended: {os.getloadavg()[0]:.1f}",
        "(other processes on the machine compete for its cores: see the CPU columns).",
        "",
        f"`uketsuke demo generate --facilities {facilities} --requests {requests}` fills a fresh",
        "database (requests spread over the prefectures by population, so 関東信越 holds about",
        "40 %, every status, each request with its audit trail); then `uketsuke serve` runs",
        "and `wrk` drives it from a second process on loopback, signed in as an approver of",
        f"関東信越 (the largest bureau). Each cell is the median of {runs} runs of {duration} s (by",
        "requests/s); errors are summed over the runs and count socket errors and every",
        "response other than 200 (a lapsed session's redirect would count). Before measuring,",
        "PostgreSQL is made to write the bulk load out (`CHECKPOINT`): in an earlier run a",
        "checkpoint spread over the first 212 s overlapped the first pages and gave single runs",
        "a p99 of 40–70 ms at one connection. Goal: p99 < 50 ms at 16 connections, no errors.",
        "",
        "| database | data generated in | requests | audit entries |",
        "|---|---:|---:|---:|",
    ]
    for b in loaded:
        g = b["generate"]
        lines.append(f"| {b['backend']} | {b['generate_wall']:.0f} s | {g['requests']:,} | {g['audit_entries']:,} |")
    lines += [
        "",
        "CPU per request is the CPU time (user + system, `/proc/PID/stat`) the server process",
        "spent during a run divided by the requests it served in that run; on PostgreSQL the",
        "database's own backends are measured the same way and shown beside it. Unlike the",
        "latency, it does not grow when other processes compete for the two cores, so it is the",
        "figure to compare between machines. Each cell shows the median of the runs and, after",
        "it, the spread (lowest–highest).",
        "",
        "| database | page | connections | requests/s | p50 (ms) | p99 (ms) | errors | server CPU (ms/request) | database CPU (ms/request) | p99 of each run (ms) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]

    def spread(values, digits=2):
        return f"{statistics.median(values):.{digits}f} ({min(values):.{digits}f}–{max(values):.{digits}f})"

    for b in loaded:
        for label, c, m in b["rows"]:
            db_cpu = spread(m["all_db_cpu"]) if b["backend"] == "postgresql" else "(in process)"
            lines.append(f"| {b['backend']} | {label} | {c} | {m['rps']:,.0f} | {m['p50'] * 1000:.1f} | "
                         f"{m['p99'] * 1000:.1f} | {m['errors']} | {spread(m['all_cpu'])} | {db_cpu} | "
                         f"{', '.join(f'{p * 1000:.1f}' for p in m['all_p99'])} |")
    lines.append("")
    misses = [(b["backend"], label, m) for b in loaded for label, c, m in b["rows"]
              if c == 16 and not label.startswith("static") and (m["p99"] >= 0.05 or m["errors"])]
    if misses:
        lines.append("**Short of the goal at 16 connections:** " + "; ".join(
            f"{backend} {label.split(':')[0]} p99 {m['p99'] * 1000:.0f} ms, {m['errors']} errors" for backend, label, m in misses) + ".")
    else:
        lines.append("Every page and API endpoint meets the goal (p99 < 50 ms at 16 connections, no errors) on "
                     "both databases.")
    # Issue 17's CPU goals: about 1 ms of server CPU for the list and the case page,
    # about 2 ms for the name search (at 16 connections, the server process alone).
    goals = []
    for b in loaded:
        for label, c, m in b["rows"]:
            if c != 16 or label.startswith("static"):
                continue
            goal = 2.0 if ("search" in label or "rare" in label or "開設者" in label or "prefix" in label) else 1.0
            verdict = "holds" if m["cpu_ms"] <= goal * 1.1 else "**misses**"
            goals.append(f"| {b['backend']} | {label.split(':')[0]} | {m['cpu_ms']:.2f} | ≈ {goal:.0f} | {verdict} |")
    lines += ["", "Server CPU per request at 16 connections against issue 17's goals (about 1 ms for the",
              "list and the case pages, about 2 ms for a search; within 10 % counts as held):", "",
              "| database | page | server CPU (ms/request) | goal (ms) | |", "|---|---|---:|---:|---|", *goals]
    lines += WEB_FIXES
    return lines


# What profiling found at national scale and what was changed (issue 7). The "before"
# figures were measured on this machine with the code before each change; they cannot be
# re-measured by this script without that code, so they are kept here as text.
WEB_FIXES = [
    "",
    "### What fell short, why, and what changed (before → after)",
    "",
    "Found with `EXPLAIN QUERY PLAN` / `EXPLAIN (ANALYZE, BUFFERS)`, PostgreSQL's",
    "`log_min_duration_statement = 0` (parse/bind/execute per statement) and `perf record -g`",
    "on the server under `wrk`, on the 250,000 / 150,000 data set:",
    "",
    "| page | cause | change | before | after |",
    "|---|---|---|---|---|",
    "| case list, first page | `COUNT(*)` of the bureau's ten years (58,000 rows) on every view, then a sort of them all | sort indexes `(bureau_id, received_on \\| designation_date \\| facility_name, id)`; the list counts at most 1,000 cases (「1000 件以上のうち…」, a narrower search is asked for; downloads keep every row) | 122 ms for one request (SQLite) | p99 ≈ 23 ms at 16 connections |",
    "| case page (PostgreSQL) | `char(n)` code columns compared with bound `text`: `bpchar = text` casts the column, so the registry query behind the district suggestion ran as a sequential scan (25 ms) | the columns become `varchar(n)`; the registry index holds (prefecture, municipality, district) and the suggestion is counted in one `GROUP BY` | p99 413 ms at 16 connections | p99 ≈ 22 ms |",
    "| name search (both) | `LIKE '%key%'` cannot use a B-tree: every facility's name was scanned | SQLite: an FTS5 trigram mirror of the names (`MATCH`), with a unary `+` on the bureau condition so that the planner starts from the matches instead of walking the bureau's 58,000 requests; PostgreSQL: a `pg_trgm` GIN index | every name of 150,000 read per request (figures not kept) | p99 61 ms (SQLite), 75 ms (PostgreSQL): still short, next row |",
    "| name search (SQLite) | the matches (441 requests of 1,183 facilities for 「さくら内科」) were fetched whole into the sort to show 50: 4.1 ms per query | the page is found, sorted and counted by id from a covering index `(facility_id, bureau_id, received_on, id)`, then only its 50 rows are read: 0.96 + 0.23 ms | 390 req/s, p99 61.6 ms | 560–598 req/s, p99 39–48 ms |",
    "| name search (PostgreSQL) | the trigram index returned the matching facilities of every bureau, each rechecked in the table (1,032 heap blocks), then 441 probes into the requests: 5.5 ms per query (warm session, psql `\\timing`); a trigram index leading with the bureau (`btree_gin`) halved it (2.5 ms; 432 req/s, p99 58 ms, still short) | each request carries its facility's search key (copied by triggers on insert, on a change of facility and on a rename) under a trigram index `(bureau_id, name_search)`: the bureau's matching requests come straight from the index, no join: 1.15 ms | 346 req/s, p99 75 ms | 592–686 req/s, p99 34–42 ms (3 runs of 5 s) |",
    "| every page (SQLite) | B-tree pages re-read through the file system (`btreeInitPage`, `pread` high in the profile) | `mmap_size` 1 GiB and a 32 MiB page cache per connection | name search at 16 connections: half the throughput without mmap | |",
    "| every page | allocation (`malloc`/`free` visible in the profile: templates, rows) | mimalloc as the global allocator | | not separable from the noise of one run |",
    "",
    "At 64 connections the latency grows with the queue (two cores serve both the server,",
    "the database and `wrk`), while requests/s stays level: the machine is saturated, not",
    "stalled, and no request fails.",
    "",
    "### Issue 17: where the server's CPU goes, and what changed",
    "",
    "`perf record --call-graph dwarf` on the server (SQLite, the data set above) while `wrk`",
    "requested the first page of the list at 16 connections, by inclusive share of the",
    "server's samples:",
    "",
    "| where | share | what it is |",
    "|---|---:|---|",
    "| kernel: futex wake/wait, task switches | ≈ 33 % | every statement runs on sqlx's SQLite worker thread and every row is handed back through a channel: two thread hand-offs per statement and more per row |",
    "| SQLite's `malloc`/`free` (libc) | ≈ 15 % | sqlx copies each column value of each row (`sqlite3_value_dup`) before sending it |",
    "| decoding rows into `reception_request::Model` | ≈ 14 % | 50 rows × 45 columns, each looked up by name, dates parsed from text |",
    "| `sqlite3Reprepare` → SQLite's parser, inside `sqlite3_step` | ≈ 12 % | cached statements re-prepared when stepped; the cause was not found in this session |",
    "| rendering (askama, 和暦 dates, links) | ≈ 5 % | |",
    "",
    "The queries themselves (`sqlite3VdbeExec`, B-tree search) are about 13 %: the cost is in",
    "the number of statements and of row values crossing from SQLite to the page, not in the",
    "plans. Changes (server CPU per request at 16 connections, measured as above, same data set):",
    "",
    "| page | cause | change | before | after |",
    "|---|---|---|---|---|",
    "| 受付番号 prefix (SQLite) | `code LIKE '11318%'` read every issued number (no index on the code, and `LIKE` is case-insensitive); then SQLite walked the bureau's 58,000 requests newest first, probing each against the 70 matches | migration 16: index `(code, request_id)`; the prefix becomes the range `code BETWEEN '1131800000' AND '1131899999'`; for 5 digits or more (one district) the search starts from the matching numbers (unary `+` on the bureau) and sorts and counts them in one pass | 11.0 ms CPU per request | 2.8 ms |",
    "| 開設者 search (new) | there was none | migration 16: the founder's, 法人's and representative's names joined, spaces removed, under a trigram index (PostgreSQL: GIN on the expression, leading with the bureau; SQLite: an FTS5 trigram table kept by triggers) | | see the table above |",
    "| every page and API call | the session (or API token) and its user read by two statements | one join | | one statement less per request |",
    "| case page | the actions panel read the case's numbers and facility a second time | it takes those the page has read | | two statements less |",
    "",
    "What is left: the list, the name and 開設者 searches and the API list still cost 2–5 ms",
    "of server CPU per request on SQLite (the goals are about 1 ms and 2 ms). By the profile,",
    "the next steps are to read only the columns the list shows (the API list needs them",
    "all), to find why SQLite re-prepares cached statements, and to run the list's",
    "statements on one connection without the per-row hand-off.",
    "",
]


def replace_section(heading, lines):
    """Rewrites one `## ` section of BENCHMARKS.md (the one starting with `heading`) in
    place, keeping the others: for a run of one part (`BENCH_ONLY`)."""
    path = os.path.join(ROOT, "BENCHMARKS.md")
    with open(path) as f:
        text = f.read().split("\n")
    starts = [i for i, line in enumerate(text) if line.startswith(heading)]
    if not starts:
        return
    start = starts[0]
    end = next((i for i in range(start + 1, len(text)) if text[i].startswith("## ")), len(text))
    with open(path, "w") as f:
        f.write("\n".join(text[:start] + lines + text[end:]))


def main():
    work, n = sys.argv[1], int(sys.argv[2])
    pg_url = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    facilities = int(os.environ.get("BENCH_FACILITIES", "250000"))
    requests = int(os.environ.get("BENCH_REQUESTS", "150000"))
    runs = int(os.environ.get("BENCH_WRK_RUNS", "3"))
    duration = int(os.environ.get("BENCH_WRK_SECONDS", "5"))
    only = os.environ.get("BENCH_ONLY")
    if only == "web":
        lines = web_section(web(pg_url, facilities, requests, runs, duration), (facilities, requests, runs, duration))
        print("\n".join(lines))
        replace_section("## Web under load", lines)
        return
    if only == "uploads":
        scale = (int(os.environ.get("BENCH_UPLOAD_FACILITIES", facilities)),
                 int(os.environ.get("BENCH_UPLOAD_REQUESTS", requests)))
        for line in uploads_section(uploads(pg_url, *scale), scale):
            print(line)
        return
    if only == "export":
        for line in export_section(*export(work)):
            print(line)
        return
    ingested = ingest(work, n)
    exported = export(work)
    issued = issuance(pg_url)
    boot = startup()
    loaded = web(pg_url, facilities, requests, runs, duration)
    uploaded = uploads(pg_url, facilities, requests)
    write(ingested, n, issued, boot, exported, loaded, (facilities, requests, runs, duration), uploaded)


if __name__ == "__main__":
    main()
