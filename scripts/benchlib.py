"""Shared helpers for the benchmark and load scripts in this folder.

Everything here talks to 127.0.0.1 only, every loop is bounded in time or
count, and every process started is stopped by its own pid.
"""

import datetime
import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# WIREFEED_BIN: measure another build (A/B); it implies no build.
BIN = os.environ.get("WIREFEED_BIN") or os.path.join(ROOT, "target", "release", "wirefeed")
HOST = "127.0.0.1"
TOKEN = "bench-token-0123456789abcdef"

SECTION_NAMES = [
    "World", "Business", "Sport", "Technology", "Science", "Health", "Culture",
    "Politics", "Europe", "Asia", "Africa", "Americas", "Middle East", "Opinion",
    "Environment", "Education", "Travel", "Style", "Media", "Law",
]

WORDS = (
    "the minister said on tuesday that talks would resume next week after a "
    "long pause in negotiations between both sides over trade energy water and "
    "security while officials in the capital warned of delays and rising costs "
    "analysts expect markets to react calmly but some investors remain cautious"
).split()


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def need(*tools):
    """Installs missing Debian packages for the named tools (root, apt)."""
    missing = [t for t in tools if shutil.which(t) is None]
    if not missing:
        return
    log(f"installing {' '.join(missing)} with apt-get")
    subprocess.run(["apt-get", "install", "-y", *missing], check=True, stdout=subprocess.DEVNULL)


def build_release():
    if os.environ.get("SKIP_BUILD") or os.environ.get("WIREFEED_BIN"):
        log(f"SKIP_BUILD or WIREFEED_BIN set: using {BIN} as it is")
        return
    log("building release (cargo build --release --bin wirefeed)")
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "wirefeed"], cwd=ROOT, check=True)


# --- a baseline build (--baseline REV / BASELINE=REV) ------------------------------

def add_baseline_arg(ap):
    """--baseline REV on an argparse parser, defaulting to the env BASELINE."""
    ap.add_argument("--baseline", metavar="REV", default=os.environ.get("BASELINE") or None,
                    help="also measure the release build of git revision REV, side by side "
                         "(env BASELINE; built once into target/baseline-REV/, the working tree untouched)")


def git(*args):
    return subprocess.run(["git", "-C", ROOT, *args], check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def describe_current():
    """What "current" is: WIREFEED_BIN, or the working tree at HEAD (and whether it has changes)."""
    if os.environ.get("WIREFEED_BIN"):
        return f"WIREFEED_BIN={os.environ['WIREFEED_BIN']}"
    try:
        head = git("rev-parse", "--short=10", "HEAD")
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return "the working tree"
    return f"the working tree at {head}" + (" with uncommitted changes" if dirty else "")


def build_baseline(rev):
    """The release binary of git revision `rev`, built without touching the working
    tree or target/release: `git archive REV` is unpacked into
    target/baseline-<rev>/src (vendor/sled and Cargo's [patch] come with it) and
    built there with CARGO_TARGET_DIR=target/baseline-<rev>/target. A binary built
    before for the same commit is reused. Returns (path of the binary, short rev)."""
    full = git("rev-parse", "--verify", f"{rev}^{{commit}}")
    short = full[:10]
    home = os.path.join(ROOT, "target", f"baseline-{short}")
    src, target = os.path.join(home, "src"), os.path.join(home, "target")
    binary = os.path.join(target, "release", "wirefeed")
    stamp = os.path.join(home, "built-from")
    if os.path.exists(binary) and os.path.exists(stamp) and open(stamp).read().strip() == full:
        log(f"baseline {rev} ({short}): reusing {binary}")
        return binary, short
    log(f"baseline {rev} ({short}): git archive into {src}, cargo build --release there "
        f"(CARGO_TARGET_DIR={target})")
    # A fresh copy each time: the archive's files carry the commit's time, so
    # Cargo's fingerprints of an interrupted earlier build still hold.
    shutil.rmtree(src, ignore_errors=True)
    os.makedirs(src)
    archive = subprocess.Popen(["git", "-C", ROOT, "archive", "--format=tar", full], stdout=subprocess.PIPE)
    subprocess.run(["tar", "-x", "-C", src], stdin=archive.stdout, check=True)
    archive.stdout.close()
    if archive.wait() != 0:
        raise RuntimeError(f"git archive {full} failed")
    env = dict(os.environ, CARGO_TARGET_DIR=target)
    subprocess.run(["cargo", "build", "--release", "--quiet", "--bin", "wirefeed"], cwd=src, env=env, check=True)
    with open(stamp, "w") as f:
        f.write(full + "\n")
    return binary, short


def rotated(items, r):
    """`items` in round `r`'s order: rotated by one each round, so that over
    len(items) rounds each one is measured first, second, ... alike (for two
    items: the order alternating)."""
    k = r % len(items)
    return items[k:] + items[:k]


def free_port():
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def slug(name):
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


# --- synthetic stories -------------------------------------------------------

EPOCH = datetime.datetime(2001, 1, 1)


def story_time(i):
    """A varied, reproducible time: stories spread over ~20 years, not in arrival order."""
    minutes = (i * 2_654_435_761 + 12345) % (20 * 365 * 24 * 60)
    return EPOCH + datetime.timedelta(minutes=minutes)


_POOL = []


def _pool():
    """512 paragraphs made once; stories pick from them, so generating a million is quick."""
    if not _POOL:
        rnd = random.Random(42)
        for _ in range(512):
            sentences = []
            for _ in range(rnd.randint(2, 4)):
                words = " ".join(rnd.choice(WORDS) for _ in range(rnd.randint(10, 22)))
                sentences.append(words.capitalize() + ".")
            _POOL.append(" ".join(sentences))
    return _POOL


def story(i, sections=10, paragraphs=6, tag="s"):
    """One distinct story in the seed's shape; `i` makes headline and time unique."""
    pool = _pool()
    section = SECTION_NAMES[i % sections]
    t = story_time(i)
    h = (i * 2654435761) % 2**32
    headline = f"{section} story {tag}{i}: " + " ".join(WORDS[(h >> (3 * k)) % len(WORDS)] for k in range(7))
    paras = [pool[(h + 97 * k) % len(pool)] for k in range(paragraphs)]
    related = [f"Related {section} headline {r} for {i}\n\n{pool[(h + r) % len(pool)][:90]}..." for r in range(2)]
    text = (
        headline + "\n\n" + "\n\n".join(paras) + "\n\n"
        + "Last update: " + t.strftime("%a, %d/%m/%Y - %H:%M") + "\n\n"
        + "More from " + section + "\n\n" + "\n\n".join(related) + "\n"
    )
    return text.encode()


def write_stories(directory, start, count, sections=10, paragraphs=6, tag="s"):
    os.makedirs(directory, exist_ok=True)
    for i in range(start, start + count):
        with open(os.path.join(directory, f"{i:08d}.txt"), "wb") as f:
            f.write(story(i, sections, paragraphs, tag))


def env_for(data_dir, port=None):
    env = dict(os.environ)
    env.update({
        "WIREFEED_DATA_DIR": data_dir,
        "WIREFEED_IMPORT_TOKEN": TOKEN,
        "WIREFEED_SEED_DIR": os.path.join(data_dir, "no-seed"),
        "RUST_LOG": "warn",
    })
    if port is not None:
        env["WIREFEED_BIND"] = f"{HOST}:{port}"
    return env


def bulk_import(data_dir, directory, bin=None):
    """`wirefeed import DIR` (with `bin`, default BIN); returns (seconds, summary line)."""
    started = time.monotonic()
    out = subprocess.run([bin or BIN, "import", directory], env=env_for(data_dir), check=True,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return time.monotonic() - started, out.stdout.strip()


# --- processes -----------------------------------------------------------------

def vm_rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def page_cached(path):
    """(bytes of `path` in the OS page cache, its size), by util-linux fincore; None without fincore."""
    try:
        out = subprocess.run(["fincore", "--bytes", "--noheadings", "--raw", "-o", "RES,SIZE", path],
                             check=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    res, size = out.split()[:2]
    return int(res), int(size)


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.path.getsize(os.path.join(root, name))
            except OSError:
                pass
    return total


def stop_process(proc, sig, seconds):
    """Sends `sig`, waits up to `seconds`, then kills."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=seconds)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_answering(proc, port, path, seconds, name, log, ok=lambda status: True, pause=0.05):
    """Waits until `proc` answers GET `path` on `port` with a status `ok` accepts;
    raises if it exits first or `seconds` pass."""
    deadline = time.monotonic() + seconds
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see {log}")
        try:
            if ok(get(port, path, timeout=2)[0]):
                return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{name} did not answer {path} within {seconds} s; see {log}")
        time.sleep(pause)


class Server:
    """`wirefeed serve` on a free loopback port; `started_in` is spawn → /healthz 200."""

    def __init__(self, data_dir, log_path=None, extra_env=None, wrapper=(), start_timeout=60, bin=None):
        self.port = free_port()
        env = env_for(data_dir, self.port)
        env.update(extra_env or {})
        self.log = open(log_path or os.devnull, "wb")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([*wrapper, bin or BIN, "serve"], env=env, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_answering(self.proc, self.port, "/healthz", start_timeout, "wirefeed", log_path,
                           ok=lambda status: status == 200, pause=0.005)
        except RuntimeError:
            self.stop()
            raise
        self.started_in = time.monotonic() - t0
        self.pid = self.proc.pid

    def url(self, path):
        return f"http://{HOST}:{self.port}{path}"

    def rss_kib(self):
        return vm_rss_kib(self.proc.pid)

    def stop(self):
        stop_process(self.proc, signal.SIGTERM, 30)
        self.log.close()


def get(port, path, headers=None, timeout=30, method="GET"):
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        res = conn.getresponse()
        body = res.read()
        return res.status, dict((k.lower(), v) for k, v in res.getheaders()), body
    finally:
        conn.close()


class Client:
    """One keep-alive connection to the server, reconnecting when it drops."""

    def __init__(self, port, timeout=30):
        self.port, self.timeout, self.conn = port, timeout, None

    def request(self, method, path, body=None, headers=None):
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(HOST, self.port, timeout=self.timeout)
            try:
                self.conn.request(method, path, body=body, headers=headers or {})
                res = self.conn.getresponse()
                data = res.read()
                return res.status, data
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                self.conn.close()
                self.conn = None
                if attempt == 1:
                    raise
        raise AssertionError("unreachable")

    def post_story(self, text):
        return self.request("POST", "/import", body=text, headers={
            "Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain; charset=utf-8"})

    def close(self):
        if self.conn is not None:
            self.conn.close()


# --- wrk -------------------------------------------------------------------------

def wrk(url, threads=2, conns=64, duration=10, headers=(), script=None, timeout=None):
    """Runs wrk and returns a dict: rps, requests, non2xx3xx, socket_errors, latency, raw."""
    cmd = ["wrk", f"-t{threads}", f"-c{conns}", f"-d{duration}s", "--latency"]
    if timeout:
        cmd.append(f"--timeout={timeout}s")
    for h in headers:
        cmd += ["-H", h]
    if script:
        cmd += ["-s", script]
    cmd.append(url)
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=duration + 60).stdout
    res = {"raw": out, "non2xx3xx": 0, "socket_errors": {}}
    m = re.search(r"Requests/sec:\s*([\d.]+)", out)
    res["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    res["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Non-2xx or 3xx responses:\s*(\d+)", out)
    if m:
        res["non2xx3xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    if m:
        res["socket_errors"] = dict(zip(["connect", "read", "write", "timeout"], map(int, m.groups())))
    m = re.search(r"^\s+50%\s+(\S+)", out, re.M)
    res["p50"] = m.group(1) if m else "?"
    m = re.search(r"^\s+99%\s+(\S+)", out, re.M)
    res["p99"] = m.group(1) if m else "?"
    return res


def median(xs):
    return statistics.median(xs) if xs else float("nan")


# --- nginx -----------------------------------------------------------------------

NGINX_CONF = """\
worker_processes auto;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    etag on;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    types {{ }}
    default_type "{media_type}";
    server {{
        listen {host}:{port};
        root {root};
        gzip_static on;
        gzip_vary on;
        add_header Cache-Control "public, max-age=300";
    }}
}}
"""


class Nginx:
    """nginx serving `root` on a free loopback port, from a generated config in `tmp`."""

    def __init__(self, tmp, root, media_type):
        self.tmp = tmp
        self.port = free_port()
        os.makedirs(os.path.join(tmp, "logs"), exist_ok=True)
        conf = os.path.join(tmp, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(tmp=tmp, media_type=media_type, host=HOST, port=self.port, root=root))
        self.log = open(os.path.join(tmp, "nginx.log"), "wb")
        self.proc = subprocess.Popen(
            ["nginx", "-p", tmp, "-c", conf, "-g", f"daemon off; pid {tmp}/nginx.pid; error_log stderr;"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_answering(self.proc, self.port, "/", 10, "nginx", f"{tmp}/nginx.log")

    def stop(self):
        stop_process(self.proc, signal.SIGQUIT, 15)
        self.log.close()


def fsync_rate(directory, n=500):
    """write+fsync of a small record, n times, in `directory`: fsyncs per second."""
    path = os.path.join(directory, "fsync-probe")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        started = time.monotonic()
        for i in range(n):
            os.write(fd, b"x" * 512)
            os.fsync(fd)
        elapsed = time.monotonic() - started
    finally:
        os.close(fd)
        os.unlink(path)
    return n / elapsed


def tempdir(prefix):
    base = os.environ.get("BENCH_TMP") or None
    return tempfile.mkdtemp(prefix=prefix, dir=base)


class Sampler(threading.Thread):
    """Samples VmRSS of `pid` every `every` seconds until stopped."""

    def __init__(self, pid, every=5.0):
        super().__init__(daemon=True)
        self.pid, self.every, self.samples, self._stop_ev = pid, every, [], threading.Event()
        self.t0 = time.monotonic()

    def run(self):
        while True:
            try:
                self.samples.append((time.monotonic() - self.t0, vm_rss_kib(self.pid)))
            except OSError:
                return
            if self._stop_ev.wait(self.every):
                return

    def stop(self):
        self._stop_ev.set()
        self.join()


# --- Varnish with xkey (the recipe of docs/deploy.md) --------------------------

# The recipe of docs/deploy.md, the same file tests/api/edge.rs runs.
VARNISH_VCL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "edge", "wirefeed.vcl")


class Varnish:
    """varnishd (vmod-xkey) in front of `origin` on `port`, its instance directory in `tmp`."""

    def __init__(self, tmp, port, origin):
        self.tmp, self.port = tmp, port
        os.makedirs(tmp, exist_ok=True)
        vcl = os.path.join(tmp, "wirefeed.vcl")
        with open(vcl, "w") as f:
            f.write(open(VARNISH_VCL).read().replace("ORIGIN_PORT", str(origin)))
        self.name = os.path.join(tmp, "instance")
        self.log = open(os.path.join(tmp, "varnish.log"), "wb")
        self.proc = subprocess.Popen(
            ["varnishd", "-F", "-n", self.name, "-a", f"{HOST}:{port}", "-f", vcl, "-s", "malloc,256m", "-T", "none",
             "-p", "thread_pool_min=20"],
            stdout=self.log, stderr=subprocess.STDOUT)
        wait_answering(self.proc, self.port, "/healthz", 30, "varnishd", f"{tmp}/varnish.log")

    def counters(self):
        """MAIN.cache_hit and MAIN.cache_miss (varnishstat -1)."""
        out = subprocess.run(["varnishstat", "-n", self.name, "-1", "-f", "MAIN.cache_hit", "-f", "MAIN.cache_miss"],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
        values = {line.split()[0]: int(line.split()[1]) for line in out.splitlines() if line.strip()}
        return values.get("MAIN.cache_hit", 0), values.get("MAIN.cache_miss", 0)

    def stop(self):
        stop_process(self.proc, signal.SIGTERM, 15)
        self.log.close()
