"""Authorization: who may do what (kube-apiserver's `--authorization-mode=Node,RBAC`).

- `attributes`: a request as the authorizers see it (verb, group, resource, subresource,
  namespace, name, or a non-resource path);
- `rules`: RBAC's PolicyRule matching and the "covers" check behind escalation prevention;
- `index`: the Roles, ClusterRoles and their bindings in memory, fed by the watch cache;
- `node`: the Node authorizer's core for `system:node:<name>` users;
- `authorizer`: the modes in order, and Kubernetes' Forbidden message;
- `policy`: the bootstrap ClusterRoles and bindings, reconciled at start;
- `aggregation`: aggregated ClusterRoles (admin, edit, view and any with an aggregationRule);
- `gate`: the HTTP step (impersonation, the decision, the review APIs);
- `reviews`: SubjectAccessReview and friends, SelfSubjectReview;
- `escalation`: the admission step refusing Roles and bindings that grant more than the requester has.
"""
