//! The live collector: what netcheck reads from the API server, in two rounds (the second
//! asks for what the first showed is needed: the CNI's configuration, logs). The request
//! engine (paging, retries, deadlines, protobuf) is in `api.rs`.

use super::api::{encode, err, futures_join, Answer, Api, Decoder, Item, ReqError, JSON};
use super::{proto, Fatal};
use crate::discover::{plan, proxy};
use crate::model::*;
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Options {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub request_timeout: Duration,
    /// Whole-run bound: reads still pending then are reported as skipped.
    pub deadline: Duration,
    pub page_size: u32,
    pub logs: proxy::LogPolicy,
    pub log_bytes: usize,
    pub log_concurrency: usize,
    /// Opt-in: send a dry-run Service create to learn the service range from the error.
    pub probe_service_cidr: bool,
}

/// The resources read as lists. Adding one: a model type, a line here, a read in `collect`.
impl Item for Node {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::node);
}
impl Item for Service {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::service);
}
impl Item for DaemonSet {}
impl Item for ServiceCidr {}
impl Item for IpPool {}
impl Item for ApiObject {}
impl Item for EndpointSlice {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::endpoint_slice);
}
impl Item for Endpoints {}
impl Item for Event {}
impl Item for IpAddress {}
impl Item for NetworkPolicy {}
impl Item for Namespace {}
impl Item for PodEntry {
    const PROTOBUF: Option<Decoder<Self>> = Some(proto::pod);
}

/// Only these node annotations are read; dropping the rest keeps large clusters small.
pub(super) const NODE_ANNOTATIONS: &[&str] = &[
    "k3s.io/",
    "rke2.io/",
    "flannel.alpha.coreos.com/",
    "projectcalico.org/",
    "network.cilium.io/",
    "kube-router.io/",
    "k8s.ovn.org/",
];
pub(super) const POD_ANNOTATIONS: &[&str] =
    &["kubernetes.io/config.mirror", "kubernetes.io/config.source"];

pub async fn collect(o: &Options) -> Result<Cluster, Fatal> {
    let (client, server) = super::kubeconfig::client(
        o.kubeconfig.as_deref(),
        o.context.as_deref(),
        o.request_timeout,
    )
    .await?;
    let api = Arc::new(Api {
        client,
        request_timeout: o.request_timeout,
        page_size: o.page_size,
        end: Instant::now() + o.deadline,
    });
    let mut c = Cluster::new_snapshot();
    c.source = SourceInfo {
        mode: "live".into(),
        context: o.context.clone(),
        server: Some(server.clone()),
        file: None,
        collected_at: None,
    };

    // A first request tells an unreachable server or rejected credentials apart from RBAC gaps.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Version {
        git_version: String,
    }
    match api.get_json::<Version>("/version").await {
        Ok(v) => c.server_version = Some(v.git_version),
        Err(
            e @ ReqError::Status {
                code: 403 | 404, ..
            },
        ) => c
            .errors
            .push(err(what::VERSION, &e, "get /version (nonResourceURLs)")),
        Err(ReqError::Status {
            code: 401, message, ..
        }) => {
            return Err(Fatal(format!(
                "API server {server} rejected the credentials (401 Unauthorized): {message}"
            )))
        }
        Err(e) => {
            return Err(Fatal(format!(
                "cannot reach the API server {server}: {}",
                e.describe()
            )))
        }
    }

    let cm = |ns: &str, name: &str| {
        let api = api.clone();
        let path = format!(
            "/api/v1/namespaces/{}/configmaps/{}",
            encode(ns),
            encode(name)
        );
        let (ns, name) = (ns.to_string(), name.to_string());
        async move { (ns, name, api.get_json::<ConfigMap>(&path).await) }
    };
    let (mut infra_pods, mut workload_pods) = (vec![], vec![]);
    let mut shapes = Shapes::default();
    let (nodes, pods, services, slices, dss, sc, cms, events, ipa, netpols, namespaces) = tokio::join!(
        api.list::<Node>("/api/v1/nodes", |mut n| {
            n.metadata
                .annotations
                .retain(|k, _| NODE_ANNOTATIONS.iter().any(|p| k.starts_with(p)));
            Some(n)
        }),
        api.list_into::<PodEntry>("/api/v1/pods", |e| match e {
            Some(PodEntry::Infra(mut p)) => {
                p.metadata
                    .annotations
                    .retain(|k, _| POD_ANNOTATIONS.contains(&k.as_str()));
                push_bounded(&mut infra_pods, *p);
            }
            Some(PodEntry::Workload(mut w)) => {
                shapes.share(&mut w);
                push_bounded(&mut workload_pods, w);
            }
            None => {
                infra_pods.clear();
                workload_pods.clear();
            }
        }),
        api.list::<Service>("/api/v1/services", Some),
        endpoints(&api),
        api.list::<DaemonSet>("/apis/apps/v1/daemonsets", Some),
        service_cidrs(&api),
        futures_join(
            [
                "kube-proxy",
                "kube-proxy-config",
                "kubeadm-config",
                "kubelet-config",
                "coredns",
                "node-local-dns"
            ]
            .iter()
            .map(|n| cm("kube-system", n))
            .collect()
        ),
        futures_join(
            EVENT_REASONS
                .iter()
                .map(|r| events(api.clone(), r))
                .collect()
        ),
        api.list::<IpAddress>("/apis/networking.k8s.io/v1/ipaddresses", |mut a| {
            a.metadata = Meta {
                name: std::mem::take(&mut a.metadata.name),
                ..Meta::default()
            };
            Some(a)
        }),
        api.list::<NetworkPolicy>("/apis/networking.k8s.io/v1/networkpolicies", |mut p| {
            p.metadata = Meta {
                name: std::mem::take(&mut p.metadata.name),
                namespace: p.metadata.namespace.take(),
                ..Meta::default()
            };
            Some(p)
        }),
        // Only the labels: namespaceSelectors read nothing else.
        api.list::<Namespace>("/api/v1/namespaces", |mut n| {
            n.metadata = Meta {
                name: std::mem::take(&mut n.metadata.name),
                labels: std::mem::take(&mut n.metadata.labels),
                ..Meta::default()
            };
            Some(n)
        }),
    );
    match netpols {
        Ok(v) => c.network_policies = Some(v),
        // Not served (only a server before 1.7, or a test's): there can be none.
        Err(e) if e.code() == Some(404) => c.network_policies = Some(vec![]),
        Err(e) => c.errors.push(err(
            what::NETWORKPOLICIES,
            &e,
            "list networkpolicies.networking.k8s.io (all namespaces)",
        )),
    }
    match namespaces {
        Ok(v) => c.namespaces = Some(v),
        Err(e) => c.errors.push(err(what::NAMESPACES, &e, "list namespaces")),
    }
    match ipa {
        Ok(v) => c.ip_addresses = v,
        // Not served before 1.33 (beta and off by default before).
        Err(e) if e.code() == Some(404) => {}
        Err(e) => c.errors.push(err(
            what::IPADDRESSES,
            &e,
            "list ipaddresses.networking.k8s.io",
        )),
    }
    for (reason, res) in events {
        match res {
            Ok(v) => c.events.extend(v),
            Err(e) => c.errors.push(err(
                &what::events(reason),
                &e,
                "list events (all namespaces)",
            )),
        }
    }
    record(
        &mut c.nodes,
        nodes,
        &mut c.errors,
        what::NODES,
        "list nodes",
    );
    match pods {
        Ok(()) => (c.pods, c.workload_pods) = (infra_pods, workload_pods),
        Err(e) => c
            .errors
            .push(err(what::PODS, &e, "list pods (all namespaces)")),
    }
    record(
        &mut c.services,
        services,
        &mut c.errors,
        what::SERVICES,
        "list services (all namespaces)",
    );
    c.endpoints_api = slices.api;
    c.endpoint_slices = slices.slices;
    c.endpoints = slices.endpoints;
    c.errors.extend(slices.errors);
    record(
        &mut c.daemon_sets,
        dss,
        &mut c.errors,
        what::DAEMONSETS,
        "list daemonsets.apps (all namespaces)",
    );
    match sc {
        Ok(v) => c.service_cidrs = v,
        Err(e) => c.errors.push(err(
            what::SERVICECIDRS,
            &e,
            "list servicecidrs.networking.k8s.io",
        )),
    }
    add_config_maps(&mut c, cms);
    c.shrink();

    // Second round: what the first one showed is needed (the CNI's own configuration, logs).
    let plan = plan::second_round(&c, o.logs);
    let cm_reqs = plan
        .config_maps
        .iter()
        .map(|(ns, name)| cm(ns, name))
        .collect();
    let obj_reqs = plan.objects.iter().cloned().map(|r| {
        let api = api.clone();
        async move {
            let res = read_objects(&api, &r).await;
            (r, res)
        }
    });
    let (cms, objects, pools, logs, probe) = tokio::join!(
        futures_join(cm_reqs),
        futures_join(obj_reqs.collect()),
        async {
            if plan.ip_pools {
                Some(
                    api.list::<IpPool>("/apis/crd.projectcalico.org/v1/ippools", Some)
                        .await,
                )
            } else {
                None
            }
        },
        read_logs(&api, plan.logs, o),
        async {
            if o.probe_service_cidr {
                Some(probe(&api).await)
            } else {
                None
            }
        },
    );
    add_config_maps(&mut c, cms);
    for (r, res) in objects {
        match res {
            Ok(v) => c.objects.extend(v),
            // Not served: the CRD is not installed, or the object does not exist.
            Err(e) if e.code() == Some(404) => {}
            Err(e) => {
                let verb = if r.name.is_some() { "get" } else { "list" };
                let needs = match r.name {
                    Some(n) => format!("get {} {n}", r.api.resource()),
                    None => format!("{verb} {}", r.api.resource()),
                };
                c.errors
                    .push(err(&what::object(&r.api, r.name), &e, &needs));
            }
        }
    }
    match pools {
        Some(Ok(p)) => c.ip_pools = p,
        Some(Err(e)) if e.code() == Some(404) => {}
        Some(Err(e)) => c
            .errors
            .push(err(what::IPPOOLS, &e, "list ippools.crd.projectcalico.org")),
        None => {}
    }
    for (req, res) in logs {
        match res {
            Ok(l) => c.logs.push(l),
            Err(e) => c.errors.push(err(
                &what::log(&req.namespace, &req.pod, &req.container, req.previous),
                &e,
                &format!("get pods/log in {}", req.namespace),
            )),
        }
    }
    match probe {
        Some(Ok(p)) => c.probe = Some(p),
        Some(Err(e)) => c
            .errors
            .push(err(what::PROBE, &e, "create services in default (dry run)")),
        None => {}
    }
    Ok(c)
}

fn record<T>(
    into: &mut Vec<T>,
    res: Result<Vec<T>, ReqError>,
    errors: &mut Vec<CollectError>,
    what_: &str,
    needs: &str,
) {
    match res {
        Ok(v) => *into = v,
        Err(e) => errors.push(err(what_, &e, needs)),
    }
}

fn add_config_maps(c: &mut Cluster, res: Vec<(String, String, Result<ConfigMap, ReqError>)>) {
    for (ns, name, r) in res {
        match r {
            Ok(m) => c.config_maps.push(m),
            Err(e) if e.code() == Some(404) => {}
            Err(e) => c.errors.push(err(
                &what::config_map(&ns, &name),
                &e,
                &format!("get configmaps in {ns}"),
            )),
        }
    }
}

/// The events of one reason, selected by the server; at most `MAX_EVENTS` are kept.
async fn events(
    api: Arc<Api>,
    reason: &'static str,
) -> (&'static str, Result<Vec<Event>, ReqError>) {
    let path = format!("/api/v1/events?fieldSelector=reason%3D{reason}");
    let mut out = Vec::new();
    let res = api
        .list_into::<Event>(&path, |e| match e {
            Some(e) if out.len() < MAX_EVENTS => out.push(e.clipped()),
            Some(_) => {}
            None => out.clear(),
        })
        .await;
    (reason, res.map(|()| out))
}

/// ServiceCIDRs from networking.k8s.io/v1, falling back to v1beta1 on older servers.
async fn service_cidrs(api: &Arc<Api>) -> Result<Vec<ServiceCidr>, ReqError> {
    match api
        .list::<ServiceCidr>("/apis/networking.k8s.io/v1/servicecidrs", Some)
        .await
    {
        Ok(v) => Ok(v
            .into_iter()
            .map(|mut s| {
                s.api_version = Some("networking.k8s.io/v1".into());
                s
            })
            .collect()),
        Err(e) if e.code() == Some(404) => match api
            .list::<ServiceCidr>("/apis/networking.k8s.io/v1beta1/servicecidrs", Some)
            .await
        {
            Ok(v) => Ok(v
                .into_iter()
                .map(|mut s| {
                    s.api_version = Some("networking.k8s.io/v1beta1".into());
                    s
                })
                .collect()),
            // Neither version served: a server before ServiceCIDRs existed. Nothing to report.
            Err(e) if e.code() == Some(404) => Ok(vec![]),
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    }
}

async fn read_logs(
    api: &Arc<Api>,
    reqs: Vec<proxy::LogRequest>,
    o: &Options,
) -> Vec<(proxy::LogRequest, Result<PodLog, ReqError>)> {
    let sem = Arc::new(tokio::sync::Semaphore::new(o.log_concurrency.max(1)));
    let log_bytes = o.log_bytes;
    let futs = reqs.into_iter().map(|r| {
        let api = api.clone();
        let sem = sem.clone();
        async move {
            let _permit = sem.acquire_owned().await;
            let path = format!(
                "/api/v1/namespaces/{}/pods/{}/log?container={}&limitBytes={}{}",
                encode(&r.namespace),
                encode(&r.pod),
                encode(&r.container),
                log_bytes,
                if r.previous { "&previous=true" } else { "" }
            );
            // The server should stop at limitBytes; the cap guards one that does not.
            let res = api
                .call("GET", &path, vec![], log_bytes, "*/*", None)
                .await
                .map(
                    |Answer {
                         body: buf,
                         truncated,
                         ..
                     }| PodLog {
                        namespace: r.namespace.clone(),
                        pod: r.pod.clone(),
                        container: r.container.clone(),
                        previous: r.previous,
                        text: String::from_utf8_lossy(&buf).into_owned(),
                        truncated: truncated || buf.len() >= log_bytes,
                    },
                );
            (r, res)
        }
    });
    futures_join(futs.collect()).await
}

/// Opt-in (--probe-service-cidr): a dry-run create of a Service whose clusterIP is outside any
/// plausible range; the API server's refusal names the valid range. Nothing is persisted.
async fn probe(api: &Api) -> Result<ServiceCidrProbe, ReqError> {
    const IP: &str = "1.1.1.1";
    let body = serde_json::json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "netcheck-probe", "namespace": "default"},
        "spec": {"clusterIP": IP, "ports": [{"port": 80}]}
    });
    match api
        .call(
            "POST",
            "/api/v1/namespaces/default/services?dryRun=All",
            body.to_string().into_bytes(),
            1 << 20,
            JSON,
            None,
        )
        .await
    {
        Ok(_) => Ok(ServiceCidrProbe {
            requested_ip: IP.into(),
            code: 201,
            message: format!("the dry run accepted clusterIP {IP}"),
        }),
        Err(ReqError::Status { code, message, .. }) if code == 422 || code == 400 => {
            Ok(ServiceCidrProbe {
                requested_ip: IP.into(),
                code,
                message,
            })
        }
        Err(e) => Err(e),
    }
}

/// One object by name, or a whole collection, of an API that only some clusters serve.
async fn read_objects(api: &Arc<Api>, r: &plan::ObjectRead) -> Result<Vec<ApiObject>, ReqError> {
    let base = r.api.path(r.namespace);
    let mut v = match r.name {
        Some(n) => vec![
            api.get_json::<ApiObject>(&format!("{base}/{}", encode(n)))
                .await?,
        ],
        None => api.list::<ApiObject>(&base, Some).await?,
    };
    // List items of built-in APIs carry no kind; custom resources do. Say it either way.
    for o in &mut v {
        o.api_version = r.api.api_version();
        o.kind = r.api.kind.into();
    }
    Ok(v)
}

/// What was read of the cluster's endpoints.
#[derive(Default)]
struct EndpointRead {
    api: Option<String>,
    slices: Vec<EndpointSlice>,
    endpoints: Vec<Endpoints>,
    errors: Vec<CollectError>,
}

/// Endpoints from EndpointSlices, or from core Endpoints where slices are forbidden or not
/// served (servers before 1.21): the same addresses, and the answer says which API it used.
async fn endpoints(api: &Arc<Api>) -> EndpointRead {
    let mut r = EndpointRead::default();
    let e = match api
        .list::<EndpointSlice>("/apis/discovery.k8s.io/v1/endpointslices", Some)
        .await
    {
        Ok(v) => {
            r.slices = v;
            r.api = Some("discovery.k8s.io/v1".into());
            return r;
        }
        Err(e) => e,
    };
    let needs = "list endpointslices.discovery.k8s.io (all namespaces)";
    if !matches!(e.code(), Some(403 | 404)) {
        r.errors.push(err(what::ENDPOINTSLICES, &e, needs));
        return r;
    }
    match api.list::<Endpoints>("/api/v1/endpoints", Some).await {
        Ok(v) => {
            r.endpoints = v;
            r.api = Some("v1".into());
            // Refused (not absent) slices are still a read that was not made.
            if e.code() == Some(403) {
                r.errors.push(err(what::ENDPOINTSLICES, &e, needs));
            }
        }
        // One entry: the permission to ask for is the slices', the old API is a fallback.
        Err(e2) => {
            // Slices not served (404): the Endpoints read is the only one to grant.
            let mut x = if e.code() == Some(404) {
                err(what::ENDPOINTSLICES, &e2, "list endpoints (all namespaces)")
            } else {
                err(
                    what::ENDPOINTSLICES,
                    &e,
                    &format!("{needs}, or else list endpoints (all namespaces)"),
                )
            };
            x.reason = format!("{}; core Endpoints: {}", e.describe(), e2.describe());
            r.errors.push(x);
        }
    }
    r
}
