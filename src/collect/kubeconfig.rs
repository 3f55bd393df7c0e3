//! Where the live collector's client comes from, resolved like kubectl does: `--kubeconfig`,
//! else `KUBECONFIG`, else `~/.kube/config`, else (with none of those) the in-cluster service
//! account. Every failure is one line that names the file, context, plugin or certificate.

use super::Fatal;
use kube::config::{KubeConfigOptions, Kubeconfig};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Where the kubelet mounts the pod's service account token and the cluster CA.
pub const SERVICEACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
/// For tests only: read the service-account files from this directory instead.
pub const SERVICEACCOUNT_DIR_ENV: &str = "NETCHECK_SERVICEACCOUNT_DIR";
const SERVICE_HOST_ENV: &str = "KUBERNETES_SERVICE_HOST";
const SERVICE_PORT_ENV: &str = "KUBERNETES_SERVICE_PORT";

/// An error and its sources on one line: kube's and hyper's top-level messages ("client error
/// (Connect)") hide the part that matters ("invalid peer certificate: UnknownIssuer").
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut cur = e.source();
    while let Some(s) = cur {
        let m = s.to_string();
        if !m.is_empty() && !out.contains(&m) {
            out.push_str(": ");
            out.push_str(&m);
        }
        cur = s.source();
    }
    one_line(&out)
}

/// Multi-line messages (YAML parser errors with a caret diagram) folded into one line.
fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// A client for the cluster, and the server URL it talks to.
pub async fn client(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    request_timeout: Duration,
) -> Result<(kube::Client, String), Fatal> {
    client_reading(kubeconfig, context, request_timeout, request_timeout).await
}

/// A client whose reads may wait `read_timeout` for the next byte (a watch waits longer than
/// a request may take).
pub async fn client_reading(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
    request_timeout: Duration,
    read_timeout: Duration,
) -> Result<(kube::Client, String), Fatal> {
    let (mut config, from) = config(kubeconfig, context).await?;
    config.connect_timeout = Some(request_timeout);
    config.read_timeout = Some(read_timeout);
    config.write_timeout = Some(request_timeout);
    config.default_retry = false;
    if config.root_cert.as_ref().is_some_and(Vec::is_empty) {
        return Err(Fatal(format!(
            "{from}: the cluster's certificate authority (certificate-authority or \
             certificate-authority-data) holds no PEM certificate"
        )));
    }
    let plugin = config
        .auth_info
        .exec
        .as_ref()
        .and_then(|x| x.command.clone());
    let url = config.cluster_url.to_string();
    let c = kube::Client::try_from(config).map_err(|e| match &plugin {
        // kube runs the credential plugin here, before any request.
        Some(cmd) if matches!(e, kube::Error::Auth(_)) => Fatal(format!(
            "{from}: credential plugin (exec) {cmd:?} failed: {}",
            exec_failure(&chain(&e))
        )),
        _ => Fatal(format!("{from}: cannot build a client: {}", chain(&e))),
    })?;
    Ok((c, url))
}

/// A failed plugin's exit status and stderr, out of kube's message, which also carries the
/// plugin's environment and its stdout (where a credential would be). Anything else as is.
fn exec_failure(msg: &str) -> String {
    const STATUS: &str = "failed with status ";
    const STDERR: &str = "stderr: \"";
    let (Some(s), Some(e)) = (msg.find(STATUS), msg.rfind(STDERR)) else {
        return msg.to_string();
    };
    let status = msg[s + STATUS.len()..]
        .split(": Output")
        .next()
        .unwrap_or_default()
        .trim_end_matches(':');
    let raw = msg[e + STDERR.len()..]
        .trim_end()
        .trim_end_matches('}')
        .trim_end()
        .trim_end_matches('"');
    // Undo the Debug escaping of the common characters.
    let stderr = raw
        .replace("\\n", "\n")
        .replace("\\t", " ")
        .replace("\\\"", "\"")
        .replace("\\\\", "\\");
    let stderr = one_line(&stderr);
    if stderr.is_empty() {
        status.to_string()
    } else {
        format!("{status}: {stderr}")
    }
}

/// The configuration and a description of where it came from, for error messages.
async fn config(
    kubeconfig: Option<&Path>,
    context: Option<&str>,
) -> Result<(kube::Config, String), Fatal> {
    let kopts = KubeConfigOptions {
        context: context.map(str::to_string),
        ..Default::default()
    };
    if let Some(p) = kubeconfig {
        let from = format!("kubeconfig {}", p.display());
        let kc = Kubeconfig::read_from(p).map_err(|e| Fatal(format!("{from}: {}", chain(&e))))?;
        let c = kube::Config::from_custom_kubeconfig(kc, &kopts)
            .await
            .map_err(|e| Fatal(format!("{from}: {}", chain(&e))))?;
        return Ok((c, from));
    }
    let env = std::env::var_os("KUBECONFIG").filter(|v| !v.is_empty());
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(|h| PathBuf::from(h).join(".kube").join("config"));
    let from = match (&env, &home) {
        (Some(v), _) => Some(format!("kubeconfig {} (KUBECONFIG)", v.to_string_lossy())),
        (None, Some(h)) if h.exists() => Some(format!("kubeconfig {}", h.display())),
        _ => None,
    };
    if let Some(from) = from {
        let c = kube::Config::from_kubeconfig(&kopts)
            .await
            .map_err(|e| Fatal(format!("{from}: {}", chain(&e))))?;
        return Ok((c, from));
    }
    if let Some(ctx) = context {
        return Err(Fatal(format!(
            "--context {ctx}: no kubeconfig to find it in (--kubeconfig, KUBECONFIG, ~/.kube/config)"
        )));
    }
    if std::env::var_os(SERVICE_HOST_ENV).is_none() {
        return Err(Fatal(format!(
            "no kubeconfig (--kubeconfig, KUBECONFIG, ~/.kube/config) and not in a cluster \
             ({SERVICE_HOST_ENV} is not set); or use --snapshot FILE"
        )));
    }
    let dir = std::env::var_os(SERVICEACCOUNT_DIR_ENV)
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(SERVICEACCOUNT_DIR));
    let c = in_cluster(&dir)?;
    Ok((c, format!("in-cluster service account {}", dir.display())))
}

/// What `kube::Config::incluster` does (as client-go's `rest.InClusterConfig`), but from
/// `dir`: the API server at https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT (both
/// required; IPv6 hosts bracketed, port 443 left out), trusting `dir/ca.crt`, authenticating
/// with `dir/token` (re-read as it rotates). Unlike kube, a missing `namespace` file is not an
/// error: netcheck reads every namespace.
fn in_cluster(dir: &Path) -> Result<kube::Config, Fatal> {
    let fail = |m: String| Fatal(format!("in-cluster configuration: {m}"));
    let host =
        std::env::var(SERVICE_HOST_ENV).map_err(|e| fail(format!("{SERVICE_HOST_ENV}: {e}")))?;
    let port = std::env::var(SERVICE_PORT_ENV).map_err(|e| {
        fail(format!(
            "{SERVICE_HOST_ENV} is set but {SERVICE_PORT_ENV} is not: {e}"
        ))
    })?;
    let port: u16 = port
        .trim()
        .parse()
        .map_err(|_| fail(format!("{SERVICE_PORT_ENV}={port:?} is not a port number")))?;
    let url = in_cluster_url(host.trim(), port)
        .map_err(|e| fail(format!("{SERVICE_HOST_ENV}={host:?}: {e}")))?;

    let token_path = dir.join("token");
    let token = std::fs::read_to_string(&token_path).map_err(|e| {
        fail(format!(
            "cannot read the service account token {}: {e}",
            token_path.display()
        ))
    })?;
    if token.trim().is_empty() {
        return Err(fail(format!(
            "the service account token {} is empty",
            token_path.display()
        )));
    }
    let ca_path = dir.join("ca.crt");
    let ca = std::fs::read(&ca_path)
        .map_err(|e| fail(format!("cannot read {}: {e}", ca_path.display())))?;
    let certs = pem_certificates(&ca).map_err(|e| fail(format!("{}: {e}", ca_path.display())))?;

    let mut c = kube::Config::new(url);
    c.default_namespace = std::fs::read_to_string(dir.join("namespace"))
        .ok()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "default".into());
    c.root_cert = Some(certs);
    if token == token.trim() {
        // Re-read by kube at least once a minute, as projected tokens rotate.
        c.auth_info.token_file = Some(token_path.to_string_lossy().into_owned());
    } else {
        // kube would send the newline in the header; a run is far shorter than a token's life.
        c.auth_info.token = Some(token.trim().to_string().into());
    }
    Ok(c)
}

fn in_cluster_url(host: &str, port: u16) -> Result<http::Uri, String> {
    let host = match host.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(ip)) => format!("[{ip}]"),
        _ => host.to_string(),
    };
    let url = if port == 443 {
        format!("https://{host}")
    } else {
        format!("https://{host}:{port}")
    };
    url.parse::<http::Uri>().map_err(|e| e.to_string())
}

/// DER of every CERTIFICATE block in a PEM bundle; an error if there is none.
fn pem_certificates(pem: &[u8]) -> Result<Vec<Vec<u8>>, String> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let certs = CertificateDer::pem_slice_iter(pem)
        .map(|c| c.map(|c| c.to_vec()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate bundle: {e}"))?;
    if certs.is_empty() {
        return Err("holds no PEM certificate".into());
    }
    Ok(certs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_cluster_urls_like_client_go() {
        let u = |h, p| in_cluster_url(h, p).unwrap().to_string();
        assert_eq!(u("10.96.0.1", 443), "https://10.96.0.1/");
        assert_eq!(u("10.96.0.1", 6443), "https://10.96.0.1:6443/");
        assert_eq!(u("fd00::1", 443), "https://[fd00::1]/");
        assert_eq!(u("fd00::1", 6443), "https://[fd00::1]:6443/");
        assert_eq!(
            u("kubernetes.default.svc", 443),
            "https://kubernetes.default.svc/"
        );
    }

    #[test]
    fn chains_are_one_line_without_repeats() {
        #[derive(Debug)]
        struct E(&'static str, Option<Box<E>>);
        impl std::fmt::Display for E {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.0)
            }
        }
        impl std::error::Error for E {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                self.1.as_deref().map(|e| e as _)
            }
        }
        let e = E(
            "client error (Connect)",
            Some(Box::new(E(
                "Connect",
                Some(Box::new(E(
                    "invalid peer certificate:\n  UnknownIssuer",
                    None,
                ))),
            ))),
        );
        assert_eq!(
            chain(&e),
            "client error (Connect): invalid peer certificate: UnknownIssuer"
        );
    }

    #[test]
    fn exec_failures_keep_status_and_stderr_but_not_stdout() {
        let kube = r#"auth error: auth exec command 'KUBERNETES_EXEC_INFO="{}" "/bin/sh" "-c" "x"' failed with status exit status: 1: Output { status: ExitStatus(unix_wait_status(256)), stdout: "secret-token", stderr: "login expired:\n run \"sso\"\n" }"#;
        assert_eq!(
            exec_failure(kube),
            r#"exit status: 1: login expired: run "sso""#
        );
        assert_eq!(
            exec_failure("unable to run auth exec: No such file"),
            "unable to run auth exec: No such file"
        );
    }

    #[test]
    fn pem_bundles() {
        assert!(pem_certificates(b"garbage").is_err());
        assert!(pem_certificates(b"").is_err());
    }
}
