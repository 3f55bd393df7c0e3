//! An agent's environment variable as its container sees it: written in the spec, taken from a
//! ConfigMap netcheck read, or out of netcheck's sight (a Secret, a ConfigMap it could not
//! read, a field of the pod). Only the first two may decide an answer; the third means that a
//! documented default is a candidate, not a fact.

use crate::model::{what, Cluster, Container};

#[derive(Debug, Clone, PartialEq)]
pub enum Env {
    /// The value, and where it was read.
    Set(String, String),
    /// Nothing the container gets sets it.
    Unset,
    /// Something netcheck could not read may set it: why.
    Hidden(String),
}

/// The ConfigMaps (in the pod's namespace) a container takes environment from.
pub fn config_maps(ct: &Container) -> impl Iterator<Item = &str> {
    let keyed = ct
        .env
        .iter()
        .filter_map(|e| e.value_from.as_ref()?.config_map_key_ref.as_ref());
    let whole = ct.env_from.iter().filter_map(|e| e.config_map_ref.as_ref());
    keyed
        .map(|k| k.name.as_str())
        .chain(whole.map(|r| r.name.as_str()))
}

/// Why a ConfigMap's content is not known, if it is not.
fn unreadable(c: &Cluster, ns: &str, name: &str) -> Option<String> {
    if c.config_map(ns, name).is_some() {
        return None;
    }
    Some(match c.error_for(&what::config_map(ns, name)) {
        Some(e) => format!(
            "configmap {ns}/{name}, which could not be read ({})",
            e.reason
        ),
        None => format!("configmap {ns}/{name}, which was not read"),
    })
}

/// `var` in container `ct` of a pod in namespace `ns`. As in the kubelet, `env` entries win
/// over `envFrom`, and a later entry over an earlier one.
pub fn resolve(c: &Cluster, ns: &str, ct: &Container, var: &str) -> Env {
    if let Some(e) = ct.env.iter().rev().find(|e| e.name == var) {
        let Some(from) = &e.value_from else {
            let v = e.value.clone().unwrap_or_default();
            return Env::Set(v.clone(), format!("env {var}={v}"));
        };
        if let Some(k) = &from.config_map_key_ref {
            if let Some(why) = unreadable(c, ns, &k.name) {
                return Env::Hidden(format!("env {var} comes from key {} of {why}", k.key));
            }
            return match c.config_map(ns, &k.name).and_then(|m| m.data.get(&k.key)) {
                Some(v) => Env::Set(
                    v.clone(),
                    format!(
                        "env {var} from configmap {ns}/{} key {}: {v}",
                        k.name, k.key
                    ),
                ),
                None => Env::Unset,
            };
        }
        if let Some(k) = &from.secret_key_ref {
            return Env::Hidden(format!(
                "env {var} comes from secret {ns}/{} key {} (netcheck reads no secrets)",
                k.name, k.key
            ));
        }
        let field = from.field_ref.as_ref().map(|f| f.field_path.as_str());
        return Env::Hidden(format!(
            "env {var} is set from {} at run time",
            field.unwrap_or("a valueFrom source")
        ));
    }
    for src in ct.env_from.iter().rev() {
        let key = match &src.prefix {
            Some(p) => match var.strip_prefix(p.as_str()) {
                Some(k) => k,
                None => continue,
            },
            None => var,
        };
        if let Some(r) = &src.config_map_ref {
            if let Some(why) = unreadable(c, ns, &r.name) {
                return Env::Hidden(format!("{var} may be set by envFrom {why}"));
            }
            if let Some(v) = c.config_map(ns, &r.name).and_then(|m| m.data.get(key)) {
                return Env::Set(
                    v.clone(),
                    format!("env {var} from envFrom configmap {ns}/{}: {v}", r.name),
                );
            }
        } else if let Some(r) = &src.secret_ref {
            return Env::Hidden(format!(
                "envFrom secret {ns}/{} may set {var} (netcheck reads no secrets)",
                r.name
            ));
        }
    }
    Env::Unset
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{
        CollectError, ConfigMap, EnvFromSource, EnvVar, EnvVarSource, KeySelector, Meta, NameRef,
    };

    fn var(name: &str, value: Option<&str>, from: Option<EnvVarSource>) -> EnvVar {
        EnvVar {
            name: name.into(),
            value: value.map(Into::into),
            value_from: from,
        }
    }

    fn cm(name: &str, k: &str, v: &str) -> ConfigMap {
        ConfigMap {
            metadata: Meta {
                name: name.into(),
                namespace: Some("kube-system".into()),
                ..Meta::default()
            },
            data: [(k.to_string(), v.to_string())].into(),
        }
    }

    #[test]
    fn written_keyed_whole_and_hidden_values() {
        let mut c = Cluster::new_snapshot();
        let keyed = EnvVarSource {
            config_map_key_ref: Some(KeySelector {
                name: "weave-cfg".into(),
                key: "range".into(),
            }),
            ..EnvVarSource::default()
        };
        let mut ct = Container {
            env: vec![
                var("IPALLOC_RANGE", Some("10.1.0.0/16"), None),
                var("IPALLOC_RANGE", None, Some(keyed)),
            ],
            ..Container::default()
        };
        // The later entry wins, and its ConfigMap was not read.
        let r = resolve(&c, "kube-system", &ct, "IPALLOC_RANGE");
        assert!(
            matches!(&r, Env::Hidden(w) if w.contains("configmap kube-system/weave-cfg, which was not read")),
            "{r:?}"
        );
        c.errors.push(CollectError {
            what: what::config_map("kube-system", "weave-cfg"),
            reason: "403 Forbidden: no".into(),
            needs: Some("get configmaps in kube-system".into()),
        });
        let r = resolve(&c, "kube-system", &ct, "IPALLOC_RANGE");
        assert!(
            matches!(&r, Env::Hidden(w) if w.contains("403 Forbidden")),
            "{r:?}"
        );
        c.errors.clear();
        c.config_maps
            .push(cm("weave-cfg", "range", "10.244.0.0/16"));
        assert!(
            matches!(resolve(&c, "kube-system", &ct, "IPALLOC_RANGE"), Env::Set(v, _) if v == "10.244.0.0/16")
        );
        // A key the ConfigMap lacks: the container gets nothing.
        c.config_maps[0].data.clear();
        assert_eq!(resolve(&c, "kube-system", &ct, "IPALLOC_RANGE"), Env::Unset);

        ct.env.clear();
        ct.env_from = vec![EnvFromSource {
            prefix: Some("WEAVE_".into()),
            config_map_ref: Some(NameRef {
                name: "weave-cfg".into(),
            }),
            secret_ref: None,
        }];
        c.config_maps[0] = cm("weave-cfg", "IPALLOC_RANGE", "10.7.0.0/16");
        // The prefix is prepended to the ConfigMap's keys.
        assert_eq!(resolve(&c, "kube-system", &ct, "IPALLOC_RANGE"), Env::Unset);
        assert!(
            matches!(resolve(&c, "kube-system", &ct, "WEAVE_IPALLOC_RANGE"), Env::Set(v, _) if v == "10.7.0.0/16")
        );
        ct.env_from.push(EnvFromSource {
            prefix: None,
            config_map_ref: None,
            secret_ref: Some(NameRef { name: "s".into() }),
        });
        assert!(
            matches!(resolve(&c, "kube-system", &ct, "IPALLOC_RANGE"), Env::Hidden(w) if w.contains("secret kube-system/s"))
        );
        assert_eq!(
            config_maps(&ct).collect::<Vec<_>>(),
            vec!["weave-cfg"],
            "ConfigMaps the collector must read"
        );
    }
}
