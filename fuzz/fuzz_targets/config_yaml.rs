//! ConfigMap / manifest documents: static-pod manifests, KubeProxyConfiguration, kubeadm
//! ClusterConfiguration (YAML) and flannel's net-conf.json, on arbitrary text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netcheck::parse::{config, flags};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        // The collectors hand these parsers Strings; lossy decoding is what a caller would do.
        let text = String::from_utf8_lossy(data);
        run(&text);
        return;
    };
    run(text);
});

fn run(text: &str) {
    if let Ok(pods) = config::manifest_pods(text) {
        for p in &pods {
            for c in &p.spec.containers {
                // What --on-node does next with a manifest's containers.
                let words = flags::words(c.argv());
                let _ = flags::last(&words, "service-cluster-ip-range");
            }
        }
    }
    if let Ok(k) = config::kube_proxy_config(text) {
        if let Some(c) = &k.cluster_cidr {
            let _ = netcheck::cidr::parse_list(c);
        }
    }
    if let Ok(c) = config::cluster_configuration(text) {
        if let Some(s) = &c.networking.pod_subnet {
            let _ = netcheck::cidr::parse_list(s);
        }
    }
    let _ = config::flannel_net_conf(text);
}
