"""Runs schemathesis against jiqun's own OpenAPI document, once per role.

Started by scripts/schemathesis inside its virtual environment. It starts `jiqun serve --demo`
on a fresh data folder, signs in four demo roles through the API (the demo's second factors are
derived from the user name, as the demo banner prints them), then lets schemathesis generate
requests for every operation with a bounded number of examples per role. The run fails when any
check fails for any role.

Operations that would end or lock the run's own session (signing out, the second factor, changing
the password) are left out; everything else is exercised, writes included: the data folder is thrown away afterwards.
"""

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

import pyotp

DEMO_PASSWORD = "Jiqun@2026demo"
ROLES = ["applicant", "changsha", "expert", "province"]
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)


def demo_totp(username: str) -> str:
    digest = hashlib.new("sm3", f"jiqun-demo-totp-{username}".encode()).hexdigest()
    secret = base64.b32encode(bytes.fromhex(digest[:40])).decode().rstrip("=")
    return pyotp.TOTP(secret).now()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post_json(url: str, body: dict) -> dict:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def sign_in(base: str, username: str) -> str:
    answer = post_json(
        f"{base}/api/v1/session", {"username": username, "password": DEMO_PASSWORD}
    )
    token, stage = answer["token"], answer["stage"]
    if stage == "verify_second_factor":
        # A code is good once per 30-second step: wait for a fresh step if the last one was used.
        for _ in range(3):
            req = urllib.request.Request(
                f"{base}/api/v1/session/second-factor",
                data=json.dumps({"code": demo_totp(username)}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "Authorization": f"Bearer {token}",
                },
                method="POST",
            )
            try:
                with urllib.request.urlopen(req, timeout=30) as resp:
                    stage = json.loads(resp.read()).get("stage", "complete")
                break
            except urllib.error.HTTPError:
                time.sleep(31)
    if stage != "complete":
        raise SystemExit(f"{username}: sign-in stopped at stage {stage}")
    return token


def main() -> int:
    binary = sys.argv[1]
    examples = os.environ.get("JIQUN_SCHEMATHESIS_EXAMPLES", "10")
    report_dir = os.path.abspath(os.environ.get("JIQUN_SCHEMATHESIS_REPORT", "artifacts/schemathesis"))
    os.makedirs(report_dir, exist_ok=True)
    data = tempfile.mkdtemp(prefix="jiqun-conformance-")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, JIQUN_DATA_DIR=data, JIQUN_LISTEN=f"127.0.0.1:{port}")
    env.pop("JIQUN_DATABASE_URL", None)
    # The generated requests come from one address; the sign-in limiter must not stop the run.
    env.setdefault("JIQUN_LOGIN_ADDRESS_LIMIT", "100000")
    env.setdefault("JIQUN_OBJECTION_RATE_LIMIT", "100000")
    server = subprocess.Popen(
        [binary, "serve", "--demo"],
        env=env,
        stdout=open(os.path.join(report_dir, "server.log"), "w"),
        stderr=subprocess.STDOUT,
    )
    failed = []
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"{base}/api/v1/openapi.json", timeout=2)
                break
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        for role in ROLES:
            token = sign_in(base, role)
            print(f"\n== schemathesis as {role}", flush=True)
            cmd = [
                "schemathesis",
                "run",
                f"{base}/api/v1/openapi.json",
                "--checks",
                CHECKS,
                "--max-examples",
                examples,
                "--phases",
                "examples,coverage,fuzzing",
                "--workers",
                "1",
                "--exclude-path-regex",
                "^/api/v1/(session|me/password)",
                "--header",
                f"Authorization: Bearer {token}",
                "--report",
                "junit",
                "--report-dir",
                os.path.join(report_dir, role),
                "--suppress-health-check",
                "all",
                "--seed",
                "2026",
            ]
            if subprocess.call(cmd) != 0:
                failed.append(role)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    if failed:
        print(f"\nschemathesis found failures as: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("\nschemathesis: no failures for any role")
    return 0


if __name__ == "__main__":
    sys.exit(main())
