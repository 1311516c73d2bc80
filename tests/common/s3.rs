//! An S3-compatible server for backup tests: moto behind HAProxy doing TLS.

use std::time::Duration;

/// Polls `check` every half second for up to `limit`.
fn wait_for(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + limit;
    while std::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    false
}

/// moto's S3 server (from PyPI, installed by tests/run.sh) on loopback, behind HAProxy doing
/// TLS (a throwaway certificate) on an address the tenants' containers reach (the Docker
/// host's bridge address, or the bridge of the test's engines in network namespaces). (moto's own TLS ends connections without close_notify, which OpenSSL 3 clients such
/// as pgBackRest refuse.) Both are killed on drop.
pub struct S3Server {
    moto: std::process::Child,
    tls: std::process::Child,
    /// HOST:PORT of its TLS front.
    pub endpoint: String,
    _dir: tempfile::TempDir,
}

impl S3Server {
    /// The Docker host's bridge address, which the containers of the host's engine reach.
    pub fn docker0() -> String {
        let out = std::process::Command::new("ip").args(["-4", "-o", "addr", "show", "docker0"]).output().unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .skip_while(|w| *w != "inet")
            .nth(1)
            .and_then(|a| a.split('/').next())
            .expect("an address on docker0")
            .to_string()
    }

    /// Starts the server with its TLS front on `host` (an address of this machine) and makes
    /// `bucket`.
    pub fn start(host: &str, bucket: &str) -> Self {
        let (moto_port, port) = (super::free_port(), super::free_port());
        let dir = tempfile::tempdir().unwrap();
        let (key, cert) = (dir.path().join("key.pem"), dir.path().join("cert.pem"));
        let made = std::process::Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=pgs-test-s3",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
        let pem = dir.path().join("haproxy.pem");
        std::fs::write(&pem, [std::fs::read(&cert).unwrap(), std::fs::read(&key).unwrap()].concat()).unwrap();
        let cfg = dir.path().join("haproxy.cfg");
        std::fs::write(
            &cfg,
            format!(
                "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 60s\n  timeout server 60s\n\
                 listen s3\n  bind {host}:{port} ssl crt {}\n  server moto 127.0.0.1:{moto_port}\n",
                pem.display()
            ),
        )
        .unwrap();
        let quiet = || std::process::Stdio::null();
        let moto = std::process::Command::new("moto_server")
            .args(["-H", "127.0.0.1", "-p", &moto_port.to_string()])
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .expect("moto_server (pip install 'moto[server]')");
        let haproxy = if std::path::Path::new("/usr/sbin/haproxy").exists() { "/usr/sbin/haproxy" } else { "haproxy" };
        let tls = std::process::Command::new(haproxy)
            .arg("-db")
            .arg("-f")
            .arg(&cfg)
            .stdout(quiet())
            .stderr(quiet())
            .spawn()
            .expect("haproxy");
        let server = Self { moto, tls, endpoint: format!("{host}:{port}"), _dir: dir };
        let make_bucket = format!(
            "import boto3, urllib3; urllib3.disable_warnings(); \
             boto3.client('s3', endpoint_url='https://{}', verify=False, region_name='us-east-1', \
             aws_access_key_id='pgs-test', aws_secret_access_key='pgs-test-secret').create_bucket(Bucket='{bucket}')",
            server.endpoint
        );
        let ready = wait_for(Duration::from_secs(30), || {
            std::process::Command::new("python3").args(["-c", &make_bucket]).output().is_ok_and(|o| o.status.success())
        });
        assert!(ready, "the S3 server did not come up at {}", server.endpoint);
        server
    }

    /// The first bytes of an object, as Python's repr of them.
    pub fn head(&self, bucket: &str, key: &str) -> String {
        let list = format!(
            "import boto3, urllib3; urllib3.disable_warnings(); \
             c = boto3.client('s3', endpoint_url='https://{}', verify=False, region_name='us-east-1', \
             aws_access_key_id='pgs-test', aws_secret_access_key='pgs-test-secret'); \
             print(c.get_object(Bucket='{bucket}', Key='{key}')['Body'].read()[:8])",
            self.endpoint
        );
        let out = std::process::Command::new("python3").args(["-c", &list]).output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        for child in [&mut self.tls, &mut self.moto] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
