"""``--prometheus`` over TLS with basic auth, against a real Prometheus server configured with
``--web.config.file`` (certificates from trustme, the password hash from Prometheus' guide)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import trustme

from soakctl.promclient import Auth
from tests.integration.fleet.promserver import free_port, needs_prometheus, stop, wait_for

pytestmark = [pytest.mark.slow, needs_prometheus]
# bcrypt of "test", as printed in Prometheus' "basic auth" guide.
HASH = "$2b$12$hNf2lSsxfm0.i4a.1kVpSOVyBCfIB51VRjgBUyv6kdnyTlgWj81Ay"


def _analyze(soakctl_bin: str, env: dict[str, str], url: str, *args: str
             ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([soakctl_bin, "analyze", "--prometheus", url, "--query",
                           "vector(1048576)", "--since", "2m", "--step", "1s", *args],
                          capture_output=True, text=True, env=env, timeout=120, check=False)


def test_tls_verified_and_basic_auth_from_a_file(
    tmp_path: Path, soakctl_bin: str, clean_env: dict[str, str]
) -> None:
    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1", "localhost")
    cert.private_key_pem.write_to_path(str(tmp_path / "key.pem"))
    cert.cert_chain_pems[0].write_to_path(str(tmp_path / "cert.pem"))
    ca.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
    web = tmp_path / "web.yml"
    web.write_text(f"tls_server_config:\n  cert_file: {tmp_path / 'cert.pem'}\n"
                   f"  key_file: {tmp_path / 'key.pem'}\n"
                   f"basic_auth_users:\n  admin: '{HASH}'\n")
    (tmp_path / "prometheus.yml").write_text("global: {scrape_interval: 15s}\n")
    port = free_port()
    proc = subprocess.Popen(["prometheus", f"--config.file={tmp_path / 'prometheus.yml'}",
                             f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.config.file={web}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            stdin=subprocess.DEVNULL)
    good = tmp_path / "auth"
    good.write_text("admin:test\n")
    bad = tmp_path / "bad-auth"
    bad.write_text("admin:s3cr3t-wrong\n")
    url = f"https://127.0.0.1:{port}"
    ca_file = str(tmp_path / "ca.pem")
    try:
        ok = wait_for(lambda: (r := _analyze(soakctl_bin, clean_env, url, "--ca-file", ca_file,
                                             "--basic-auth-file", str(good), "--json",
                                             "--out", str(tmp_path / "out"))).returncode != 2
                      and r, 60, "Prometheus over TLS")
        assert ok.returncode == 0, ok.stderr
        assert '"series"' in ok.stdout

        # Verification is on by default: without the private CA, the handshake is refused.
        proc2 = _analyze(soakctl_bin, clean_env, url, "--basic-auth-file", str(good))
        assert proc2.returncode == 2
        assert "CERTIFICATE_VERIFY_FAILED" in proc2.stderr or "certificate" in proc2.stderr
        assert len(proc2.stderr.strip().splitlines()) == 1

        # A wrong password: the server's 401, one line, and the password never echoed.
        proc3 = _analyze(soakctl_bin, clean_env, url, "--ca-file", ca_file,
                         "--basic-auth-file", str(bad))
        assert proc3.returncode == 2
        assert "401" in proc3.stderr
        assert "s3cr3t" not in proc3.stderr + proc3.stdout
        assert len(proc3.stderr.strip().splitlines()) == 1
    finally:
        stop(proc)


def test_credentials_only_from_files(tmp_path: Path, soakctl_bin: str,
                                     clean_env: dict[str, str]) -> None:
    token = tmp_path / "token"
    token.write_text("abc.def\n")
    assert Auth.from_files(None, token).header == "Bearer abc.def"
    assert Auth.from_files(None, None).header is None
    (tmp_path / "two").write_text("a:b\nc:d\n")
    proc = _analyze(soakctl_bin, clean_env, "http://127.0.0.1:9", "--basic-auth-file",
                    str(tmp_path / "two"))
    assert proc.returncode == 2 and "one non-empty line" in proc.stderr
    assert "a:b" not in proc.stderr
    proc = _analyze(soakctl_bin, clean_env, "http://user:pw@127.0.0.1:9")
    assert proc.returncode == 2 and "--basic-auth-file" in proc.stderr
    assert "user:pw" not in proc.stderr
    proc = _analyze(soakctl_bin, clean_env, "http://127.0.0.1:9", "--ca-file",
                    str(tmp_path / "token"))
    assert proc.returncode == 2 and "https" in proc.stderr
