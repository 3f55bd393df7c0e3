//! Findings about traffic from outside in (#19): each Ingress's, route's, Gateway's and
//! GatewayClass's problems are diagnosed with it (discover::routes); here they become one
//! finding per id, naming them.

use super::services::by_id;
use super::Ctx;
use crate::discover::routes::route_name;
use crate::report::Finding;

/// (id, message for n subjects, hint). docs/findings.md describes each.
const KINDS: &[(&str, &str, &str)] = &[
    ("ingress-backend-missing", "Ingress(es) send traffic to a Service that does not exist", "create the Service, or correct the backend's service.name (it must be in the Ingress's namespace); the controller answers 503 for these paths"),
    ("ingress-backend-port-missing", "Ingress(es) name a backend port the Service does not have", "set service.port.number to one of the Service's ports (not the pods' targetPort), or service.port.name to one of its port names"),
    ("ingress-class-missing", "Ingress(es) have no usable IngressClass", "set spec.ingressClassName to an existing IngressClass (`kubectl get ingressclass`), or mark one default with the annotation ingressclass.kubernetes.io/is-default-class=true"),
    ("ingress-controller-absent", "Ingress(es) belong to a class whose controller was not found running", "install or fix the controller that the IngressClass's spec.controller names (its pods, in its namespace), or move the Ingress to a class whose controller runs"),
    ("ingress-no-address", "Ingress(es) have no address in their status", "the controller has not admitted the Ingress (wrong class, the controller is down, or its Service has no external address): read the controller's log and `kubectl describe ingress`"),
    ("ingress-tls-unverified", "Ingress(es) name TLS Secrets that were not verified", "netcheck reads no Secrets: check by hand that each exists in the Ingress's namespace, is of type kubernetes.io/tls and covers the hosts (`kubectl get secret NAME -n NS`)"),
    ("gatewayclass-controller-absent", "GatewayClass(es) name a controller that was not found running", "install or fix the controller named by spec.controllerName (e.g. Envoy Gateway, istiod, Traefik); without it no Gateway of the class is programmed"),
    ("gateway-not-programmed", "Gateway(s) are not Programmed", "read the Programmed condition's reason (`kubectl describe gateway`): no address (AddressNotAssigned: a LoadBalancer Service pending), invalid listeners, or no controller for its class"),
    ("gateway-listener-unused", "Gateway listener(s) have no route attached", "no route attaches to these listeners: check the routes' parentRefs (sectionName, port) and the listener's allowedRoutes (namespaces, kinds) and hostname"),
    ("route-parent-missing", "route(s) name a parent Gateway that does not exist", "correct parentRefs (name, and namespace when the Gateway is in another one), or create the Gateway"),
    ("route-not-accepted", "route(s) are not Accepted by their Gateway", "the condition's reason says why: NotAllowedByListeners (the listener's allowedRoutes excludes the route's namespace or kind), NoMatchingListenerHostname, NoMatchingParent (sectionName or port): change the route or the listener"),
    ("route-refs-unresolved", "route(s) have references the controller could not resolve", "the ResolvedRefs condition's reason says which: BackendNotFound, RefNotPermitted (add a ReferenceGrant in the backend's namespace), InvalidKind; requests to these backends get 500s"),
    ("route-backend-missing", "route(s) send traffic to a Service that does not exist", "create the Service, or correct backendRefs' name and namespace"),
    ("route-backend-port-missing", "route(s) name a backend port the Service does not have", "set backendRefs' port to one of the Service's ports (not the pods' targetPort)"),
    ("route-backend-not-permitted", "route(s) reach across namespaces without a ReferenceGrant", "create a ReferenceGrant in the Service's namespace whose from names the route's kind and namespace and whose to names kind Service (and the Service's name, to allow only it)"),
];

pub fn problems(c: &Ctx) -> Vec<Finding> {
    let Some(a) = c.services.and_then(|s| s.routes.as_ref()) else {
        return vec![];
    };
    let mut hits = vec![];
    for k in &a.classes {
        let what = format!("{} {}", k.kind.to_lowercase(), k.name);
        hits.extend(k.problems.iter().map(|p| (what.clone(), p)));
    }
    for g in &a.gateways {
        let what = format!("gateway {}/{}", g.namespace, g.name);
        hits.extend(g.problems.iter().map(|p| (what.clone(), p)));
    }
    for r in &a.routes {
        let what = route_name(r);
        hits.extend(r.problems.iter().map(|p| (what.clone(), p)));
    }
    by_id(KINDS, hits)
}
