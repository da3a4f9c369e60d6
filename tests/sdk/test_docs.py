"""The documentation as a new user reads it: README.md and docs/ stay true to the repository.

- Every code block of README.md and docs/*.md is either run here as written (against a live
  `vpngw serve` with the README's root key), checked for syntax, or listed in BLOCKS with the
  reason it cannot run here; a new block fails until it is classified.
- The only substitutions: the server's real address for `127.0.0.1:8080` (the tests' server
  listens on a free port), and temporary directories for the site paths of the backup recipe.
- System packages are named in one place, scripts/packages.txt; the documents point to
  scripts/install-packages instead of listing packages, so the lists cannot drift.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import hcl2
import pytest
from alibabacloud_vpc20160428 import models as vpc_models

import pg
from conftest import DEV_KEY, REPO_ROOT, DevServer, VpngwServer, free_port, server_binary

DOCUMENTS = sorted(
    [REPO_ROOT / "README.md", *(REPO_ROOT / "docs").glob("*.md"), *(REPO_ROOT / "crates").glob("*/README.md")]
)
EXAMPLE_KEY = ("LTAIexample", "example-secret")
README_ADDRESS = "127.0.0.1:8080"

# Every fenced block of README.md and docs/*.md, in order: (language, how it is covered); a
# document without code blocks needs no entry. A test named here runs or checks the block;
# anything else says why it does not run here.
BLOCKS: dict[str, list[tuple[str, str]]] = {
    "README.md": [
        ("sh", "CI: scripts/readme-first-command runs the first line, .ci/run the second (scripts/test)"),
        ("sh", "test_readme_python_example: the same server set-up (root key from the environment)"),
        ("python", "test_readme_python_example"),
        ("sh", "root and network namespaces: test_dataplane_e2e.py runs `vpngw lab` and `--down` with these flags"),
        ("sh", "test_readme_tools"),
    ],
    "docs/architecture.md": [("", "a drawing, not a command")],
    "docs/cli.md": [("sh", "test_cli_md_script"), ("sh", "test_cli_md_configure")],
    "docs/dataplane-lab.md": [("sh", "CI: .ci/run runs scripts/install-packages (all groups)")],
    "docs/local-mode.md": [
        ("sh", "test_local_mode_md starts `vpngw serve --dev` (on a free port)"),
        ("", "test_local_mode_md compares the banner line by line"),
        ("sh", "test_local_mode_md"),
        ("python", "test_local_mode_md runs it with pytest"),
        ("sh", "test_local_mode_md_clients"),
        ("python", "test_local_mode_md_clients"),
        ("hcl", "test_local_mode_md_clients (parsed; the endpoints are the provider's keys)"),
    ],
    "docs/operations.md": [
        ("sh", "test_operations_backup_and_restore"),
        ("sh", "test_operations_backup_and_restore"),
        ("text", "an example `answered` line, not a command (the observability tests check real ones)"),
        ("sh", "test_operations_audit"),
    ],
    "docs/postgresql.md": [
        ("sh", "a site recipe (superuser prompts, a database host): the same steps run in scripts/test-postgres"),
    ],
    "docs/sdk.md": [
        ("sh", "pip install of the SDK in tests/sdk/requirements.txt"),
        ("python", "test_sdk_md_python_example"),
        ("sh", "npm install: not run (no test installs the Node SDK)"),
        ("js", "test_sdk_md_js_example_parses (node --check)"),
        ("sh", "go: no Go toolchain on the project's machines"),
        ("go", "no Go toolchain on the project's machines: not compiled"),
        ("", "what `vpngw serve --tls self-signed` prints (the HTTPS suite reads the CA from that path)"),
        ("python", "fragments (user key, request): the same calls run in the HTTPS suite of tests/sdk (Tea with "
         "ca=, ram_role_arn with SSL_CERT_FILE, legacy verify=)"),
        ("sh", "the HTTPS suite runs the Node SDK with NODE_EXTRA_CA_CERTS, crates/server/tests/server/tls.rs "
         "`vpngw vpc --ca-file`; no aliyun CLI here"),
    ],
    "docs/terraform.md": [("hcl", "test_terraform_md_hcl_parses")],
}

FENCE = re.compile(r"^(?P<indent>[ \t]*)```(?P<lang>\w*)[ \t]*\n(?P<body>.*?)^(?P=indent)```[ \t]*$", re.M | re.S)


def code_blocks(doc: str) -> list[tuple[str, str]]:
    """(language, text) of every fenced block of `doc` (relative to the repository), indented
    blocks (inside lists) included and dedented."""
    text = (REPO_ROOT / doc).read_text()
    out = []
    for m in FENCE.finditer(text):
        indent = len(m.group("indent"))
        body = "".join(line[indent:] for line in m.group("body").splitlines(keepends=True))
        out.append((m.group("lang"), body))
    return out


def block(doc: str, n: int, lang: str) -> str:
    """The n-th block (0-based) of `doc`, which must be in `lang` (a moved block fails loudly)."""
    blocks = code_blocks(doc)
    assert blocks[n][0] == lang, f"{doc}: block {n} is {blocks[n][0]!r}, not {lang!r}: update BLOCKS and the tests"
    return blocks[n][1]


def package_list(*groups: str) -> list[str]:
    out = subprocess.run([str(REPO_ROOT / "scripts/install-packages"), "--list", *groups],
                         capture_output=True, text=True, check=True)
    return out.stdout.split()


# ------------------------------------------------------------------------ without a server


def test_every_code_block_is_run_checked_or_explained():
    docs = ["README.md", *sorted(str(p.relative_to(REPO_ROOT)) for p in (REPO_ROOT / "docs").glob("*.md"))]
    assert set(BLOCKS) <= set(docs), set(BLOCKS) - set(docs)
    for doc in docs:
        langs = [lang for lang, _ in code_blocks(doc)]
        expected = [lang for lang, _ in BLOCKS.get(doc, [])]
        assert langs == expected, (
            f"{doc}: its code blocks are {langs}; BLOCKS in this file says {expected}: say how each is tested")
    named = {m for covered in BLOCKS.values() for _, why in covered for m in re.findall(r"\btest_\w+", why)}
    here = {name for name in globals() if name.startswith("test_")}
    assert named - {"test_dataplane_e2e"} <= here, named - here


def test_readme_says_what_is_served():
    """README's "What is served": the count of `Vpc` operations is the declared one, and the table
    names every declared operation of `Vpc` and of the other products with resources of their own
    (`Cbn`; a family written `Create/Describe/…X(s)` counts for each)."""
    declarations = json.loads((REPO_ROOT / "spec/declarations.json").read_text())
    served = {op for ops in declarations["families"]["Vpc"].values() for op in ops}
    text = (REPO_ROOT / "README.md").read_text()
    section = text.split("## What is served", 1)[1].split("\n## ", 1)[0]
    count = re.search(r"^(\d+) operations of `Vpc` 2016-04-28", section, re.M)
    assert count and int(count[1]) == len(served), (count and count[0], len(served))
    table = " ".join(line for line in section.splitlines() if line.startswith("|"))
    listed = set()
    # "DescribeVpnGateway(s)", "Create/Delete/DescribeVcoRouteEntr(y/ies)": every form it stands for.
    for m in re.finditer(r"((?:[A-Z][a-z]+/)*)([A-Z][A-Za-z]+)(\((?:s|y/ies)\))?", table):
        base, suffix = m[2], m[3]
        forms = {"(s)": [base, base + "s"], "(y/ies)": [base + "y", base + "ies"]}.get(suffix, [base])
        verb = re.match(r"[A-Z][a-z]*", base)[0]
        listed.update(forms)
        listed.update(v + f[len(verb):] for v in m[1].split("/") if v for f in forms)
    cbn = {op for ops in declarations["families"]["Cbn"].values() for op in ops}
    missing = sorted((served | cbn) - listed)
    assert not missing, f"README's served table does not name {missing}"


def test_documents_name_no_package_install_of_their_own():
    install = re.compile(r"\b(apt-get|apt|aptitude)\s+(-\S+\s+)*install\b")
    offenders = [
        f"{doc.relative_to(REPO_ROOT)}:{n}: {line.strip()}"
        for doc in DOCUMENTS
        for n, line in enumerate(doc.read_text().splitlines(), 1)
        if install.search(line)
    ]
    assert not offenders, (
        "install system packages with scripts/install-packages (the list is scripts/packages.txt), "
        "not by name:\n" + "\n".join(offenders)
    )
    text = (REPO_ROOT / "README.md").read_text() + (REPO_ROOT / "docs/dataplane-lab.md").read_text()
    assert "scripts/install-packages dataplane" in text


def test_package_list_parses_and_groups_are_known():
    everything = package_list()
    assert len(everything) == len(set(everything)), everything
    by_group = {g: package_list(g) for g in ("dataplane", "sdk", "console", "postgres")}
    assert sorted(everything) == sorted(p for ps in by_group.values() for p in ps)
    # charon's openssl plugin (des, 3des, md5) is only a Recommends of libstrongswan.
    assert "libstrongswan-standard-plugins" in by_group["dataplane"]
    bad = subprocess.run([str(REPO_ROOT / "scripts/install-packages"), "--list", "no-such-group"],
                         capture_output=True, text=True)
    assert bad.returncode == 2 and "no group 'no-such-group'" in bad.stderr


def single_line_blocks_with_several_arguments(hcl: str) -> list[str]:
    """HCL allows at most one argument in a block written on one line (`b { x = 1 }`);
    python-hcl2 accepts more, Terraform refuses them ("Invalid single-argument block")."""
    bad = []
    for line in hcl.splitlines():
        code = re.sub(r'"(?:[^"\\]|\\.)*"', '""', line).split("#")[0]
        for inner in re.findall(r"\{([^{}]*)\}", code):
            if len(re.findall(r"(?<![=!<>])=(?!=)", inner)) > 1:
                bad.append(line.strip())
    return bad


def assert_provider_endpoints(config: dict) -> dict:
    """The provider block of a document: every product vpngw serves at the README's address, by the
    provider's endpoint keys (terraform-provider-alicloud endpointsSchema; docs/api-decisions.md,
    "Local mode")."""
    provider = config["provider"][0]['"alicloud"']
    endpoints = provider["endpoints"][0]
    assert {k: v for k, v in endpoints.items() if not k.startswith("__")} == {
        key: f'"{README_ADDRESS}"' for key in ("vpc", "ecs", "resourcemanager", "cbn", "ram", "sts")}
    assert provider["protocol"] == '"HTTP"' and provider["account_type"] == '"Domestic"', provider
    return provider


def test_terraform_md_hcl_parses():
    assert single_line_blocks_with_several_arguments('ike_config { ike_version = "ikev2"  psk = "x" }')
    for lang, hcl in code_blocks("docs/terraform.md"):
        if lang != "hcl":
            continue
        assert not single_line_blocks_with_several_arguments(hcl)
        config = hcl2.loads(hcl)
        resources = {name for r in config["resource"] for name in r}
        assert resources == {'"alicloud_vpn_gateway"', '"alicloud_vpn_customer_gateway"', '"alicloud_vpn_connection"'}
        endpoints = config["provider"][0]['"alicloud"']["endpoints"][0]
        assert_provider_endpoints(config)
        if shutil.which("terraform"):  # where it is installed (not from the project's registries)
            with tempfile.TemporaryDirectory() as d:
                Path(d, "main.tf").write_text(hcl)
                r = subprocess.run(["terraform", "fmt", "-check", "-diff", "main.tf"], cwd=d,
                                   capture_output=True, text=True)
                assert r.returncode == 0, r.stdout + r.stderr


def test_sdk_md_js_example_parses():
    node = shutil.which("node")
    assert node, "node is missing (scripts/packages.txt, group console)"
    with tempfile.TemporaryDirectory() as d:
        path = Path(d, "demo.js")
        path.write_text(block("docs/sdk.md", 3, "js"))
        r = subprocess.run([node, "--check", str(path)], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr


# ------------------------------------------------------------------------ against a server

needs_sqlite = pytest.mark.skipif(
    pg.backend() == "postgres", reason="the documents' examples use the default store; they ran in the SQLite pass")


@pytest.fixture(scope="module")
def docs_server():
    """`vpngw serve` as the README starts it: the README's root key, default settings, state in
    ./vpngw-data of its working directory."""
    workdir = Path(tempfile.mkdtemp(prefix="vpngw-docs-"))
    srv = VpngwServer(workdir)
    srv.data_dir = workdir / "vpngw-data"
    srv.access_key_id, srv.access_key_secret = EXAMPLE_KEY
    srv.database_url = ""  # SQLite in the data dir, also in a --backend postgres run
    srv.extra_env = {"VPNGW_GATEWAY_PROVISION_DELAY_MS": None}  # the default, 2 s, as documented
    srv.start()
    yield srv
    srv.stop()
    shutil.rmtree(workdir, ignore_errors=True)


def at(server: VpngwServer, text: str) -> str:
    return text.replace(README_ADDRESS, server.endpoint)


def run_shell(server: VpngwServer, script: str, *, stdin: str = "", env: dict | None = None, timeout=60):
    """`script` in bash (-e, -u, pipefail) in the server's working directory, with `vpngw` on the
    PATH, the CLI's profile file in a temporary HOME and the server's address as endpoint."""
    home = server.workdir / "home"
    home.mkdir(exist_ok=True)
    full_env = dict(os.environ, PATH=f"{server_binary().parent}:{os.environ['PATH']}", HOME=str(home),
                    VPNGW_ENDPOINT=f"http://{server.endpoint}")
    for k in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_PROFILE"):
        full_env.pop(k, None)
    full_env.update(env or {})
    r = subprocess.run(["bash", "-euo", "pipefail", "-c", at(server, script)], cwd=server.workdir, input=stdin,
                       capture_output=True, text=True, env=full_env, timeout=timeout)
    assert r.returncode == 0, f"exit {r.returncode}\n--- script ---\n{script}\n--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
    return r.stdout


def run_python(server: VpngwServer, code: str) -> str:
    r = subprocess.run([sys.executable, "-c", at(server, code)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    return r.stdout


@needs_sqlite
def test_readme_python_example(docs_server):
    # The README starts the server with the example key in the environment, as docs_server does.
    setup = block("README.md", 1, "sh")
    assert "VPNGW_ROOT_ACCESS_KEY_ID=LTAIexample VPNGW_ROOT_ACCESS_KEY_SECRET=example-secret" in setup
    out = run_python(docs_server, block("README.md", 2, "python"))
    answer = eval(out, {})  # the example prints a dict
    assert answer["VpnConnectionId"].startswith("vco-") and answer["Status"] == "ike_sa_not_established", answer


@needs_sqlite
def test_sdk_md_python_example(docs_server):
    answer = eval(run_python(docs_server, block("docs/sdk.md", 1, "python")), {})
    assert "VpnGateways" in answer and answer["TotalCount"] >= 0, answer


@needs_sqlite
def test_cli_md_script(docs_server):
    out = run_shell(docs_server, block("docs/cli.md", 0, "sh"))
    assert re.search(r"^vco-\S+ +\| +\| ike_sa_not_established$", out, re.M), out
    assert '"UserName": "alice"' in out and '"AccountId"' in out, out
    # The tags given as --Tags.N.Key/Value reached the connection.
    vco = re.search(r'"VpnConnectionId": "(vco-[^"]+)"', out).group(1)
    body = docs_server.tea_client().describe_vpn_connection(vpc_models.DescribeVpnConnectionRequest(
        region_id="cn-hangzhou", vpn_connection_id=vco)).body.to_map()
    assert body["Tags"]["Tag"] == [{"Key": "env", "Value": "lab"}], body


@needs_sqlite
def test_cli_md_configure(docs_server):
    # vpngw configure prompts (id, secret, region, endpoint), then the StsToken profile's (with a token)
    answers = "LTAIexample\nexample-secret\ncn-hangzhou\n\nSTS.example\nsts-secret\nsts-token\n\n\n"
    out = run_shell(docs_server, block("docs/cli.md", 1, "sh"), stdin=answers)
    assert re.search(r"^ci \*? *\| AK:\*\*\*ple +\| cn-shanghai", out, re.M), out
    profiles = json.loads((docs_server.workdir / "home/.vpngw/config.json").read_text())["profiles"]
    assert {p["name"] for p in profiles} == {"default", "lab", "ci"}


@needs_sqlite
def test_readme_tools(docs_server):
    run_shell(docs_server, 'vpngw vpc CreateCustomerGateway --RegionId cn-hangzhou --IpAddress 203.0.113.78 '
                           '--access-key-id LTAIexample --access-key-secret example-secret >/dev/null')
    answers = f"LTAIexample\nexample-secret\ncn-hangzhou\nhttp://{docs_server.endpoint}\n"
    out = run_shell(docs_server, block("README.md", 4, "sh"), stdin=answers)
    assert re.search(r"^VpnConnectionId +\| Status$", out, re.M), out
    # The current profile (`default`, or the last one test_cli_md_configure set in this HOME)
    assert "Saved profile [" in out, out
    assert "CreateCustomerGateway" in out, out  # vpngw audit, from ./vpngw-data
    assert "vpngw_requests_total" in out, out  # curl /metrics


@needs_sqlite
def test_operations_audit(docs_server):
    cgw = run_shell(docs_server, 'vpngw vpc CreateCustomerGateway --RegionId cn-hangzhou --IpAddress 203.0.113.77 '
                                 '--access-key-id LTAIexample --access-key-secret example-secret '
                                 '--output cols=CustomerGatewayId | tail -n 1').strip()
    script = block("docs/operations.md", 3, "sh")
    assert "vco-bp1…" in script
    out = run_shell(docs_server, script.replace("vco-bp1…", cgw))
    assert cgw in out and "CreateCustomerGateway" in out, out


def test_operations_backup_and_restore(tmp_path):
    """The backup recipe on a running server, then the restore recipe: what was created after the
    backup is gone, what was before it is back."""
    if pg.backend() == "postgres":
        pytest.skip("the recipe is SQLite's")
    if not shutil.which("sqlite3"):
        pytest.fail("sqlite3 is missing (scripts/packages.txt, group sdk)")
    srv = VpngwServer(tmp_path)
    srv.data_dir = tmp_path / "vpngw-data"
    srv.database_url = ""
    srv.start()
    sites = {"/backups": str(tmp_path / "backups"), "/secure-place": str(tmp_path / "secure-place")}

    def sited(script: str) -> str:
        for site, local in sites.items():
            script = script.replace(site, local)
        return script

    try:
        vpc = srv.tea_client()
        m = vpc_models
        before = vpc.create_customer_gateway(m.CreateCustomerGatewayRequest(
            region_id="cn-hangzhou", ip_address="203.0.113.91")).body.customer_gateway_id
        run_shell(srv, sited(block("docs/operations.md", 0, "sh")))
        after = vpc.create_customer_gateway(m.CreateCustomerGatewayRequest(
            region_id="cn-hangzhou", ip_address="203.0.113.92")).body.customer_gateway_id
        backups = list(Path(sites["/backups"]).glob("vpngw-*.db"))
        assert len(backups) == 1, backups
        restore = sited(block("docs/operations.md", 1, "sh")).replace("vpngw-2026-11-25.db", backups[0].name)
        # The recipe's last line serves in the foreground: run it in the background here, on the
        # tests' port (VPNGW_LISTEN, as documented), and stop it once checked.
        *steps, serve = [line for line in restore.splitlines() if line.strip()]
        assert serve.startswith("vpngw serve"), serve
        srv.proc.send_signal(signal.SIGTERM)  # "Stop the server first"
        run_shell(srv, "\n".join(steps))
        srv.proc.wait(timeout=5)  # flock returned: the server is exiting
        srv.proc = None
        port = free_port()
        proc = subprocess.Popen(["bash", "-c", f"exec {serve}"], cwd=tmp_path,
                                env=dict(os.environ, PATH=f"{server_binary().parent}:{os.environ['PATH']}",
                                         VPNGW_LISTEN=f"127.0.0.1:{port}"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            srv.port = port
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1) as r:
                        if r.status == 200:
                            break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
                    time.sleep(0.1)
            ids = {c.customer_gateway_id for c in srv.tea_client().describe_customer_gateways(
                m.DescribeCustomerGatewaysRequest(region_id="cn-hangzhou")).body.customer_gateways.customer_gateway}
            assert before in ids and after not in ids, ids
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=10)
    finally:
        srv.stop()


def test_local_mode_md(tmp_path):
    """docs/local-mode.md as written: `vpngw serve --dev` prints the banner shown (its address and
    temporary directory aside), `vpngw reset` works without credentials, the pytest conftest passes
    twice in a row (each test starts empty), and the data directory goes with the server."""
    assert block("docs/local-mode.md", 0, "sh").split("#")[0].strip() == "vpngw serve --dev"
    srv = DevServer(tmp_path)
    srv.start()
    try:
        shown = block("docs/local-mode.md", 1, "").splitlines()
        printed = srv.banner().splitlines()
        assert len(printed) == len(shown), srv.banner()
        for want, got in zip(shown, printed):
            label = want.split(":")[0]
            if label.strip() in ("endpoint", "data", "reset"):
                want = want.replace(README_ADDRESS, srv.endpoint)
                got = re.sub(r"vpngw-dev-\w+", "vpngw-dev-Xy12ab", got)
                want = re.sub(r"/tmp/", f"{Path(tempfile.gettempdir())}/", want)
            assert got == want, (got, want)
        data_dir = Path(srv.banner_value("data").split(" (")[0])
        gw = srv.tea_client().create_vpn_gateway(vpc_models.CreateVpnGatewayRequest(
            region_id="cn-hangzhou", vpc_id="vpc-doc", bandwidth=10)).body.vpn_gateway_id
        run_shell(srv, block("docs/local-mode.md", 2, "sh"))
        body = srv.tea_client().describe_vpn_gateways(
            vpc_models.DescribeVpnGatewaysRequest(region_id="cn-hangzhou")).body
        assert body.total_count == 0, gw
        conftest = tmp_path / "suite" / "test_doc_suite.py"
        conftest.parent.mkdir()
        conftest.write_text(at(srv, block("docs/local-mode.md", 3, "python")))
        for _ in range(2):
            r = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(conftest)],
                               cwd=conftest.parent, capture_output=True, text=True, timeout=120)
            assert r.returncode == 0 and "2 passed" in r.stdout, r.stdout + r.stderr
    finally:
        srv.stop()
    assert not data_dir.exists()


def test_local_mode_md_clients(tmp_path):
    """The CLI, legacy SDK and Terraform blocks of docs/local-mode.md against a `--dev` server: the
    CLI creates a gateway that is active at once and `vpngw reset` with no credentials empties the
    server; the SDK lists; the provider block is valid HCL naming the dev key and every endpoint."""
    srv = DevServer(tmp_path)
    srv.start()
    try:
        out = run_shell(srv, block("docs/local-mode.md", 4, "sh"))
        gw = re.search(r'"VpnGatewayId": "(vpn-[^"]+)"', out).group(1)
        assert re.search(rf"^{gw} +\| active$", out, re.M), out
        body = srv.tea_client().describe_vpn_gateways(
            vpc_models.DescribeVpnGatewaysRequest(region_id="cn-hangzhou")).body
        assert body.total_count == 0, out
        srv.tea_client().create_vpn_gateway(vpc_models.CreateVpnGatewayRequest(
            region_id="cn-hangzhou", vpc_id="vpc-doc", bandwidth=10))
        answer = json.loads(run_python(srv, block("docs/local-mode.md", 5, "python")))
        assert answer["TotalCount"] == 1, answer
    finally:
        srv.stop()
    hcl = block("docs/local-mode.md", 6, "hcl")
    assert not single_line_blocks_with_several_arguments(hcl)
    provider = assert_provider_endpoints(hcl2.loads(hcl))
    assert (provider["access_key"], provider["secret_key"]) == tuple(f'"{k}"' for k in DEV_KEY), provider
