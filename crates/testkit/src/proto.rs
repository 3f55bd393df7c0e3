//! JSON objects re-encoded as the API server's protobuf, for the test server. Schema-driven: every
//! key of a served object must be known here (an unknown one is an error, so that a protobuf
//! page is never smaller than its JSON twin for want of a field). Field numbers are those of
//! k8s.io/api core/v1 and apimachinery meta/v1 `generated.proto`.

use serde_json::Value;

#[derive(Clone, Copy)]
enum K {
    Str,
    Int,
    Bool,
    Msg(&'static str),
    /// metav1.Time: Timestamp { seconds 1 }.
    Time,
    /// map<string, string>: entries { key 1, value 2 }.
    StrMap,
    /// map<string, Quantity>: entries { key 1, value 2: Quantity { string 1 } }.
    QtyMap,
    /// IntOrString { type 1, intVal 2, strVal 3 }.
    IntOrStr,
    /// FieldsV1 { Raw 1 }: the JSON itself.
    Raw,
}

/// (JSON key, field number, kind, embedded message it goes into (0: the message itself)).
/// The embedding covers Go's inlined structs: Probe's ProbeHandler, Volume's VolumeSource,
/// LocalObjectReference.
type Field = (&'static str, u64, K, u64);

fn schema(msg: &str) -> Option<&'static [Field]> {
    use K::*;
    Some(match msg {
        "Pod" => &[
            ("metadata", 1, Msg("ObjectMeta"), 0),
            ("spec", 2, Msg("PodSpec"), 0),
            ("status", 3, Msg("PodStatus"), 0),
        ],
        "ObjectMeta" => &[
            ("name", 1, Str, 0),
            ("generateName", 2, Str, 0),
            ("namespace", 3, Str, 0),
            ("uid", 5, Str, 0),
            ("resourceVersion", 6, Str, 0),
            ("generation", 7, Int, 0),
            ("creationTimestamp", 8, Time, 0),
            ("deletionTimestamp", 9, Time, 0),
            ("labels", 11, StrMap, 0),
            ("annotations", 12, StrMap, 0),
            ("ownerReferences", 13, Msg("OwnerReference"), 0),
            ("finalizers", 14, Str, 0),
            ("managedFields", 17, Msg("ManagedFieldsEntry"), 0),
        ],
        "ListMeta" => &[
            ("selfLink", 1, Str, 0),
            ("resourceVersion", 2, Str, 0),
            ("continue", 3, Str, 0),
            ("remainingItemCount", 4, Int, 0),
        ],
        "OwnerReference" => &[
            ("kind", 1, Str, 0),
            ("name", 3, Str, 0),
            ("uid", 4, Str, 0),
            ("apiVersion", 5, Str, 0),
            ("controller", 6, Bool, 0),
            ("blockOwnerDeletion", 7, Bool, 0),
        ],
        "ManagedFieldsEntry" => &[
            ("manager", 1, Str, 0),
            ("operation", 2, Str, 0),
            ("apiVersion", 3, Str, 0),
            ("time", 4, Time, 0),
            ("fieldsType", 6, Str, 0),
            ("fieldsV1", 7, Raw, 0),
            ("subresource", 8, Str, 0),
        ],
        "PodSpec" => &[
            ("volumes", 1, Msg("Volume"), 0),
            ("containers", 2, Msg("Container"), 0),
            ("restartPolicy", 3, Str, 0),
            ("terminationGracePeriodSeconds", 4, Int, 0),
            ("dnsPolicy", 6, Str, 0),
            ("nodeSelector", 7, StrMap, 0),
            ("serviceAccountName", 8, Str, 0),
            ("serviceAccount", 9, Str, 0),
            ("nodeName", 10, Str, 0),
            ("hostNetwork", 11, Bool, 0),
            ("securityContext", 14, Msg("Empty"), 0),
            ("affinity", 18, Msg("Affinity"), 0),
            ("schedulerName", 19, Str, 0),
            ("initContainers", 20, Msg("Container"), 0),
            ("tolerations", 22, Msg("Toleration"), 0),
            ("priorityClassName", 24, Str, 0),
            ("priority", 25, Int, 0),
            ("enableServiceLinks", 30, Bool, 0),
            ("preemptionPolicy", 31, Str, 0),
        ],
        "Volume" => &[
            ("name", 1, Str, 0),
            ("hostPath", 1, Msg("HostPathVolumeSource"), 2),
            ("configMap", 19, Msg("ConfigMapVolumeSource"), 2),
            ("projected", 26, Msg("ProjectedVolumeSource"), 2),
        ],
        "HostPathVolumeSource" => &[("path", 1, Str, 0), ("type", 2, Str, 0)],
        "ConfigMapVolumeSource" => &[
            ("name", 1, Str, 1),
            ("items", 2, Msg("KeyToPath"), 0),
            ("defaultMode", 3, Int, 0),
            ("optional", 4, Bool, 0),
        ],
        "ProjectedVolumeSource" => &[
            ("sources", 1, Msg("VolumeProjection"), 0),
            ("defaultMode", 2, Int, 0),
        ],
        "VolumeProjection" => &[
            ("downwardAPI", 2, Msg("DownwardAPIProjection"), 0),
            ("configMap", 3, Msg("ConfigMapProjection"), 0),
            (
                "serviceAccountToken",
                4,
                Msg("ServiceAccountTokenProjection"),
                0,
            ),
        ],
        "ServiceAccountTokenProjection" => &[
            ("audience", 1, Str, 0),
            ("expirationSeconds", 2, Int, 0),
            ("path", 3, Str, 0),
        ],
        "ConfigMapProjection" => &[
            ("name", 1, Str, 1),
            ("items", 2, Msg("KeyToPath"), 0),
            ("optional", 4, Bool, 0),
        ],
        "KeyToPath" => &[("key", 1, Str, 0), ("path", 2, Str, 0), ("mode", 3, Int, 0)],
        "DownwardAPIProjection" => &[("items", 1, Msg("DownwardAPIVolumeFile"), 0)],
        "DownwardAPIVolumeFile" => &[
            ("path", 1, Str, 0),
            ("fieldRef", 2, Msg("ObjectFieldSelector"), 0),
            ("mode", 4, Int, 0),
        ],
        "ObjectFieldSelector" => &[("apiVersion", 1, Str, 0), ("fieldPath", 2, Str, 0)],
        "Container" => &[
            ("name", 1, Str, 0),
            ("image", 2, Str, 0),
            ("command", 3, Str, 0),
            ("args", 4, Str, 0),
            ("workingDir", 5, Str, 0),
            ("ports", 6, Msg("ContainerPort"), 0),
            ("env", 7, Msg("EnvVar"), 0),
            ("envFrom", 19, Msg("EnvFromSource"), 0),
            ("resources", 8, Msg("ResourceRequirements"), 0),
            ("volumeMounts", 9, Msg("VolumeMount"), 0),
            ("livenessProbe", 10, Msg("Probe"), 0),
            ("readinessProbe", 11, Msg("Probe"), 0),
            ("terminationMessagePath", 13, Str, 0),
            ("imagePullPolicy", 14, Str, 0),
            ("terminationMessagePolicy", 20, Str, 0),
            ("startupProbe", 22, Msg("Probe"), 0),
        ],
        "ContainerPort" => &[
            ("name", 1, Str, 0),
            ("hostPort", 2, Int, 0),
            ("containerPort", 3, Int, 0),
            ("protocol", 4, Str, 0),
            ("hostIP", 5, Str, 0),
        ],
        "EnvVar" => &[
            ("name", 1, Str, 0),
            ("value", 2, Str, 0),
            ("valueFrom", 3, Msg("EnvVarSource"), 0),
        ],
        "EnvVarSource" => &[
            ("fieldRef", 1, Msg("ObjectFieldSelector"), 0),
            ("configMapKeyRef", 3, Msg("KeySelector"), 0),
            ("secretKeyRef", 4, Msg("KeySelector"), 0),
        ],
        // ConfigMapKeySelector and SecretKeySelector, alike: name in LocalObjectReference 1.
        "KeySelector" => &[
            ("name", 1, Str, 1),
            ("key", 2, Str, 0),
            ("optional", 3, Bool, 0),
        ],
        "EnvFromSource" => &[
            ("prefix", 1, Str, 0),
            ("configMapRef", 2, Msg("EnvSource"), 0),
            ("secretRef", 3, Msg("EnvSource"), 0),
        ],
        // ConfigMapEnvSource and SecretEnvSource, alike.
        "EnvSource" => &[("name", 1, Str, 1), ("optional", 2, Bool, 0)],
        "ResourceRequirements" => &[("limits", 1, QtyMap, 0), ("requests", 2, QtyMap, 0)],
        "VolumeMount" => &[
            ("name", 1, Str, 0),
            ("readOnly", 2, Bool, 0),
            ("mountPath", 3, Str, 0),
            ("subPath", 4, Str, 0),
        ],
        "Probe" => &[
            ("httpGet", 2, Msg("HTTPGetAction"), 1),
            ("initialDelaySeconds", 2, Int, 0),
            ("timeoutSeconds", 3, Int, 0),
            ("periodSeconds", 4, Int, 0),
            ("successThreshold", 5, Int, 0),
            ("failureThreshold", 6, Int, 0),
        ],
        "HTTPGetAction" => &[
            ("path", 1, Str, 0),
            ("port", 2, IntOrStr, 0),
            ("host", 3, Str, 0),
            ("scheme", 4, Str, 0),
        ],
        "Toleration" => &[
            ("key", 1, Str, 0),
            ("operator", 2, Str, 0),
            ("value", 3, Str, 0),
            ("effect", 4, Str, 0),
            ("tolerationSeconds", 5, Int, 0),
        ],
        "Affinity" => &[("nodeAffinity", 1, Msg("NodeAffinity"), 0)],
        "NodeAffinity" => &[(
            "requiredDuringSchedulingIgnoredDuringExecution",
            1,
            Msg("NodeSelector"),
            0,
        )],
        "NodeSelector" => &[("nodeSelectorTerms", 1, Msg("NodeSelectorTerm"), 0)],
        "NodeSelectorTerm" => &[
            ("matchExpressions", 1, Msg("NodeSelectorRequirement"), 0),
            ("matchFields", 2, Msg("NodeSelectorRequirement"), 0),
        ],
        "NodeSelectorRequirement" => &[
            ("key", 1, Str, 0),
            ("operator", 2, Str, 0),
            ("values", 3, Str, 0),
        ],
        "PodStatus" => &[
            ("phase", 1, Str, 0),
            ("conditions", 2, Msg("PodCondition"), 0),
            ("message", 3, Str, 0),
            ("reason", 4, Str, 0),
            ("hostIP", 5, Str, 0),
            ("podIP", 6, Str, 0),
            ("startTime", 7, Time, 0),
            ("containerStatuses", 8, Msg("ContainerStatus"), 0),
            ("qosClass", 9, Str, 0),
            ("podIPs", 12, Msg("PodIP"), 0),
        ],
        "PodCondition" => &[
            ("type", 1, Str, 0),
            ("status", 2, Str, 0),
            ("lastProbeTime", 3, Time, 0),
            ("lastTransitionTime", 4, Time, 0),
            ("reason", 5, Str, 0),
            ("message", 6, Str, 0),
        ],
        "PodIP" => &[("ip", 1, Str, 0)],
        "Node" => &[
            ("metadata", 1, Msg("ObjectMeta"), 0),
            ("spec", 2, Msg("NodeSpec"), 0),
            ("status", 3, Msg("NodeStatus"), 0),
        ],
        "NodeSpec" => &[
            ("podCIDR", 1, Str, 0),
            ("providerID", 3, Str, 0),
            ("unschedulable", 4, Bool, 0),
            ("taints", 5, Msg("Taint"), 0),
            ("podCIDRs", 7, Str, 0),
        ],
        "Taint" => &[
            ("key", 1, Str, 0),
            ("value", 2, Str, 0),
            ("effect", 3, Str, 0),
            ("timeAdded", 4, Time, 0),
        ],
        "NodeStatus" => &[
            ("capacity", 1, QtyMap, 0),
            ("allocatable", 2, QtyMap, 0),
            ("phase", 3, Str, 0),
            ("conditions", 4, Msg("NodeCondition"), 0),
            ("addresses", 5, Msg("NodeAddress"), 0),
            ("daemonEndpoints", 6, Msg("NodeDaemonEndpoints"), 0),
            ("nodeInfo", 7, Msg("NodeSystemInfo"), 0),
            ("images", 8, Msg("ContainerImage"), 0),
        ],
        "NodeCondition" => &[
            ("type", 1, Str, 0),
            ("status", 2, Str, 0),
            ("lastHeartbeatTime", 3, Time, 0),
            ("lastTransitionTime", 4, Time, 0),
            ("reason", 5, Str, 0),
            ("message", 6, Str, 0),
        ],
        "NodeAddress" => &[("type", 1, Str, 0), ("address", 2, Str, 0)],
        "NodeDaemonEndpoints" => &[("kubeletEndpoint", 1, Msg("DaemonEndpoint"), 0)],
        "DaemonEndpoint" => &[("Port", 1, Int, 0)],
        "NodeSystemInfo" => &[
            ("machineID", 1, Str, 0),
            ("systemUUID", 2, Str, 0),
            ("bootID", 3, Str, 0),
            ("kernelVersion", 4, Str, 0),
            ("osImage", 5, Str, 0),
            ("containerRuntimeVersion", 6, Str, 0),
            ("kubeletVersion", 7, Str, 0),
            ("kubeProxyVersion", 8, Str, 0),
            ("operatingSystem", 9, Str, 0),
            ("architecture", 10, Str, 0),
        ],
        "ContainerImage" => &[("names", 1, Str, 0), ("sizeBytes", 2, Int, 0)],
        "Service" => &[
            ("metadata", 1, Msg("ObjectMeta"), 0),
            ("spec", 2, Msg("ServiceSpec"), 0),
            ("status", 3, Msg("ServiceStatus"), 0),
        ],
        "ServiceSpec" => &[
            ("ports", 1, Msg("ServicePort"), 0),
            ("selector", 2, StrMap, 0),
            ("clusterIP", 3, Str, 0),
            ("type", 4, Str, 0),
            ("externalIPs", 5, Str, 0),
            ("sessionAffinity", 7, Str, 0),
            ("loadBalancerIP", 8, Str, 0),
            ("loadBalancerSourceRanges", 9, Str, 0),
            ("externalName", 10, Str, 0),
            ("externalTrafficPolicy", 11, Str, 0),
            ("healthCheckNodePort", 12, Int, 0),
            ("publishNotReadyAddresses", 13, Bool, 0),
            ("ipFamilyPolicy", 17, Str, 0),
            ("clusterIPs", 18, Str, 0),
            ("ipFamilies", 19, Str, 0),
            ("allocateLoadBalancerNodePorts", 20, Bool, 0),
            ("loadBalancerClass", 21, Str, 0),
            ("internalTrafficPolicy", 22, Str, 0),
            ("trafficDistribution", 23, Str, 0),
        ],
        "ServicePort" => &[
            ("name", 1, Str, 0),
            ("protocol", 2, Str, 0),
            ("port", 3, Int, 0),
            ("targetPort", 4, IntOrStr, 0),
            ("nodePort", 5, Int, 0),
            ("appProtocol", 6, Str, 0),
        ],
        "ServiceStatus" => &[
            ("loadBalancer", 1, Msg("LoadBalancerStatus"), 0),
            ("conditions", 2, Msg("Condition"), 0),
        ],
        "LoadBalancerStatus" => &[("ingress", 1, Msg("LoadBalancerIngress"), 0)],
        "LoadBalancerIngress" => &[
            ("ip", 1, Str, 0),
            ("hostname", 2, Str, 0),
            ("ipMode", 3, Str, 0),
        ],
        // metav1.Condition.
        "Condition" => &[
            ("type", 1, Str, 0),
            ("status", 2, Str, 0),
            ("observedGeneration", 3, Int, 0),
            ("lastTransitionTime", 4, Time, 0),
            ("reason", 5, Str, 0),
            ("message", 6, Str, 0),
        ],
        "EndpointSlice" => &[
            ("metadata", 1, Msg("ObjectMeta"), 0),
            ("endpoints", 2, Msg("Endpoint"), 0),
            ("ports", 3, Msg("EndpointPort"), 0),
            ("addressType", 4, Str, 0),
        ],
        "Endpoint" => &[
            ("addresses", 1, Str, 0),
            ("conditions", 2, Msg("EndpointConditions"), 0),
            ("hostname", 3, Str, 0),
            ("targetRef", 4, Msg("ObjectReference"), 0),
            ("nodeName", 6, Str, 0),
            ("zone", 7, Str, 0),
        ],
        "EndpointConditions" => &[
            ("ready", 1, Bool, 0),
            ("serving", 2, Bool, 0),
            ("terminating", 3, Bool, 0),
        ],
        "EndpointPort" => &[
            ("name", 1, Str, 0),
            ("protocol", 2, Str, 0),
            ("port", 3, Int, 0),
            ("appProtocol", 4, Str, 0),
        ],
        "ObjectReference" => &[
            ("kind", 1, Str, 0),
            ("namespace", 2, Str, 0),
            ("name", 3, Str, 0),
            ("uid", 4, Str, 0),
            ("apiVersion", 5, Str, 0),
            ("resourceVersion", 6, Str, 0),
            ("fieldPath", 7, Str, 0),
        ],
        "ContainerStatus" => &[
            ("name", 1, Str, 0),
            ("state", 2, Msg("ContainerState"), 0),
            ("lastState", 3, Msg("ContainerState"), 0),
            ("ready", 4, Bool, 0),
            ("restartCount", 5, Int, 0),
            ("image", 6, Str, 0),
            ("imageID", 7, Str, 0),
            ("containerID", 8, Str, 0),
            ("started", 9, Bool, 0),
        ],
        "ContainerState" => &[
            ("waiting", 1, Msg("ContainerStateWaiting"), 0),
            ("running", 2, Msg("ContainerStateRunning"), 0),
            ("terminated", 3, Msg("ContainerStateTerminated"), 0),
        ],
        "ContainerStateWaiting" => &[("reason", 1, Str, 0), ("message", 2, Str, 0)],
        "ContainerStateRunning" => &[("startedAt", 1, Time, 0)],
        "ContainerStateTerminated" => &[
            ("exitCode", 1, Int, 0),
            ("signal", 2, Int, 0),
            ("reason", 3, Str, 0),
            ("message", 4, Str, 0),
            ("startedAt", 5, Time, 0),
            ("finishedAt", 6, Time, 0),
            ("containerID", 7, Str, 0),
        ],
        "Status" => &[
            ("metadata", 1, Msg("ListMeta"), 0),
            ("status", 2, Str, 0),
            ("message", 3, Str, 0),
            ("reason", 4, Str, 0),
            ("details", 5, Msg("StatusDetails"), 0),
            ("code", 6, Int, 0),
        ],
        "StatusDetails" => &[
            ("name", 1, Str, 0),
            ("group", 2, Str, 0),
            ("kind", 3, Str, 0),
            ("retryAfterSeconds", 5, Int, 0),
        ],
        // Messages served only empty here (PodSecurityContext).
        "Empty" => &[],
        _ => return None,
    })
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

pub fn put_bytes(out: &mut Vec<u8>, field: u64, data: &[u8]) {
    put_varint(out, field << 3 | 2);
    put_varint(out, data.len() as u64);
    out.extend_from_slice(data);
}

fn put_int(out: &mut Vec<u8>, field: u64, v: u64) {
    put_varint(out, field << 3);
    put_varint(out, v);
}

/// A JSON object as the protobuf message `msg`.
pub fn encode(msg: &str, v: &Value) -> Result<Vec<u8>, String> {
    let fields = schema(msg).ok_or_else(|| format!("no protobuf schema for {msg}"))?;
    let obj = v
        .as_object()
        .ok_or_else(|| format!("{msg}: expected an object, got {v}"))?;
    let mut out = Vec::new();
    // Inlined structs, by the field they are embedded as.
    let mut embedded: Vec<(u64, Vec<u8>)> = Vec::new();
    for (key, val) in obj {
        // Top-level objects carry kind and apiVersion; protobuf keeps them in the envelope.
        if matches!(msg, "Pod" | "Node" | "Service" | "EndpointSlice" | "Status")
            && matches!(key.as_str(), "kind" | "apiVersion")
            || val.is_null()
        {
            continue;
        }
        let &(_, n, kind, via) = fields
            .iter()
            .find(|f| f.0 == key)
            .ok_or_else(|| format!("{msg}.{key} has no protobuf field in the test schema"))?;
        let buf = match via {
            0 => &mut out,
            via => match embedded.iter().position(|e| e.0 == via) {
                Some(i) => &mut embedded[i].1,
                None => {
                    embedded.push((via, Vec::new()));
                    &mut embedded.last_mut().expect("just pushed").1
                }
            },
        };
        let items = match val {
            Value::Array(a) => a.as_slice(),
            one => std::slice::from_ref(one),
        };
        for item in items {
            field(buf, n, kind, item).map_err(|e| format!("{msg}.{key}: {e}"))?;
        }
    }
    for (via, data) in embedded {
        put_bytes(&mut out, via, &data);
    }
    Ok(out)
}

fn field(out: &mut Vec<u8>, n: u64, kind: K, v: &Value) -> Result<(), String> {
    let text = || {
        v.as_str()
            .ok_or_else(|| format!("expected a string, got {v}"))
    };
    match kind {
        K::Str => put_bytes(out, n, text()?.as_bytes()),
        K::Int => put_int(out, n, v.as_i64().ok_or("expected an integer")? as u64),
        K::Bool => put_int(out, n, u64::from(v.as_bool().ok_or("expected a bool")?)),
        K::Msg(m) => put_bytes(out, n, &encode(m, v)?),
        K::Time => {
            let mut t = Vec::new();
            put_int(&mut t, 1, parse_rfc3339(text()?)? as u64);
            put_bytes(out, n, &t);
        }
        K::StrMap | K::QtyMap => {
            for (k, val) in v.as_object().ok_or("expected a map")? {
                let val = val.as_str().ok_or("expected string values")?;
                let mut entry = Vec::new();
                put_bytes(&mut entry, 1, k.as_bytes());
                if matches!(kind, K::QtyMap) {
                    let mut q = Vec::new();
                    put_bytes(&mut q, 1, val.as_bytes());
                    put_bytes(&mut entry, 2, &q);
                } else {
                    put_bytes(&mut entry, 2, val.as_bytes());
                }
                put_bytes(out, n, &entry);
            }
        }
        K::IntOrStr => {
            let mut m = Vec::new();
            match v.as_i64() {
                Some(i) => {
                    put_int(&mut m, 1, 0);
                    put_int(&mut m, 2, i as u64);
                }
                None => {
                    put_int(&mut m, 1, 1);
                    put_bytes(&mut m, 3, text()?.as_bytes());
                }
            }
            put_bytes(out, n, &m);
        }
        K::Raw => {
            let mut m = Vec::new();
            put_bytes(&mut m, 1, v.to_string().as_bytes());
            put_bytes(out, n, &m);
        }
    }
    Ok(())
}

/// `YYYY-MM-DDTHH:MM:SSZ` as seconds since the epoch.
fn parse_rfc3339(s: &str) -> Result<i64, String> {
    let bad = || format!("{s:?} is not a time of the form YYYY-MM-DDTHH:MM:SSZ");
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[19] != b'Z' {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s[r].parse::<i64>().map_err(|_| bad());
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (hh, mm, ss) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // Days since the epoch of a civil date, counting from March so that leap days come last.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// A list page: the `k8s\0` prefix and a `runtime.Unknown` (typeMeta 1, raw 2, contentEncoding
/// 3, contentType 4) around the list (metadata 1, items 2), items being ready encodings.
pub fn list_page<'a>(
    api_version: &str,
    kind: &str,
    meta: &Value,
    items: impl Iterator<Item = &'a [u8]> + Clone,
) -> Result<Vec<u8>, String> {
    let meta = encode("ListMeta", meta)?;
    let mut head = Vec::new();
    put_bytes(&mut head, 1, &meta);
    let size = head.len() + items.clone().map(|i| i.len() + 11).sum::<usize>();
    let mut raw = Vec::with_capacity(size);
    raw.extend_from_slice(&head);
    for item in items {
        put_bytes(&mut raw, 2, item);
    }
    Ok(envelope(api_version, kind, &raw))
}

pub fn envelope(api_version: &str, kind: &str, raw: &[u8]) -> Vec<u8> {
    let mut type_meta = Vec::new();
    put_bytes(&mut type_meta, 1, api_version.as_bytes());
    put_bytes(&mut type_meta, 2, kind.as_bytes());
    let mut out = Vec::with_capacity(raw.len() + 64);
    out.extend_from_slice(netcheck::collect::proto::MAGIC);
    put_bytes(&mut out, 1, &type_meta);
    put_bytes(&mut out, 2, raw);
    put_bytes(&mut out, 3, b"");
    put_bytes(&mut out, 4, b"");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use netcheck::collect::proto::rfc3339;

    #[test]
    fn time_round_trips_through_both_calendars() {
        for s in [
            0,
            1,
            59,
            86_399,
            951_782_400,
            1_730_534_400,
            4_102_444_800,
            -86_401,
        ] {
            assert_eq!(parse_rfc3339(&rfc3339(s)), Ok(s), "{s}");
        }
        assert!(parse_rfc3339("2024-11-02 08:00:00").is_err());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let e = encode("Pod", &serde_json::json!({"spec": {"hostPID": true}})).unwrap_err();
        assert!(e.contains("PodSpec.hostPID"), "{e}");
    }
}
