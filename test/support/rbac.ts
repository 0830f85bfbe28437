import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { loadAllYaml, type RbacV1Subject, type V1PolicyRule, type V1RoleRef } from '@kubernetes/client-node';
import { statusReply, type FakeKubernetesApi, type RecordedRequest } from './fake-kubernetes-api';

/**
 * Kubernetes RBAC as kube-apiserver's RBAC authorizer evaluates it, over the manifests AOR ships in
 * deploy/rbac/: which rules a group has in a namespace, and whether a request's attributes are
 * allowed. `enforce` puts it in front of the fake API server, so an adapter's real requests are
 * authorized (or refused with 403) as an EKS cluster with those bindings would.
 */

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

export interface RbacObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  rules?: V1PolicyRule[];
  roleRef?: V1RoleRef;
  subjects?: RbacV1Subject[];
}

export function loadManifests(file: string): RbacObject[] {
  return loadAllYaml(readFileSync(path.join(PROJECT_ROOT, file), 'utf8')) as RbacObject[];
}

/** A request as the authorizer sees it. */
export interface RequestAttributes {
  verb: string;
  apiGroup: string;
  /** `pods`, or `pods/log` for a subresource. */
  resource: string;
  namespace: string | undefined;
  name: string | undefined;
}

/** Discovery and /version: every authenticated user has them (system:discovery, system:public-info-viewer). */
const PUBLIC_PATHS = /^\/(version|api|apis)(\/[^/]+){0,2}$/;

/** kube-apiserver's RequestInfo: the verb and resource of a REST request; undefined for a public path. */
export function requestAttributes(
  request: Pick<RecordedRequest, 'method' | 'path'>,
): RequestAttributes | undefined {
  const match = /^\/(?:api\/v1|apis\/([^/]+)\/[^/]+)\/(.*)$/.exec(request.path);
  if (!match || PUBLIC_PATHS.test(request.path)) return undefined;
  let segments = (match[2] ?? '').split('/').filter(Boolean);
  let namespace: string | undefined;
  if (segments[0] === 'namespaces' && segments.length >= 3) {
    namespace = segments[1];
    segments = segments.slice(2);
  }
  const [resource = '', name, subresource] = segments;
  const verbs: Record<string, string> = { POST: 'create', PATCH: 'patch', PUT: 'update', DELETE: 'delete' };
  const verb =
    request.method === 'GET' ? (name === undefined ? 'list' : 'get') : (verbs[request.method] ?? '?');
  return {
    verb,
    apiGroup: match[1] ?? '',
    resource: subresource === undefined ? resource : `${resource}/${subresource}`,
    namespace,
    name,
  };
}

function ruleAllows(rule: V1PolicyRule, attributes: RequestAttributes): boolean {
  const names = rule.resourceNames ?? [];
  return (
    (rule.apiGroups ?? []).includes(attributes.apiGroup) &&
    (rule.resources ?? []).includes(attributes.resource) &&
    rule.verbs.includes(attributes.verb) &&
    // resourceNames cannot restrict create (no name yet) nor a list.
    (names.length === 0 || (attributes.name !== undefined && names.includes(attributes.name)))
  );
}

/** The RBAC objects of some manifests, and what they grant a group. */
export class Rbac {
  constructor(readonly objects: RbacObject[]) {}

  static load(...files: string[]): Rbac {
    return new Rbac(files.flatMap(loadManifests));
  }

  private role(ref: V1RoleRef, namespace: string | undefined): RbacObject | undefined {
    return this.objects.find(
      (object) =>
        object.kind === ref.kind &&
        object.metadata.name === ref.name &&
        (ref.kind === 'ClusterRole' || object.metadata.namespace === namespace),
    );
  }

  /** Every rule bound to the group, with the namespace it applies in (undefined: cluster-wide). */
  rulesOf(group: string): { namespace: string | undefined; rule: V1PolicyRule }[] {
    return this.objects
      .filter((object) => object.kind === 'RoleBinding' || object.kind === 'ClusterRoleBinding')
      .filter((binding) =>
        binding.subjects?.some((subject) => subject.kind === 'Group' && subject.name === group),
      )
      .flatMap((binding) => {
        const namespace = binding.kind === 'RoleBinding' ? binding.metadata.namespace : undefined;
        const role = binding.roleRef && this.role(binding.roleRef, namespace);
        return (role?.rules ?? []).map((rule) => ({ namespace, rule }));
      });
  }

  allows(group: string, attributes: RequestAttributes): boolean {
    return this.rulesOf(group).some(
      ({ namespace, rule }) =>
        (namespace === undefined || namespace === attributes.namespace) && ruleAllows(rule, attributes),
    );
  }

  /**
   * Authorizes every request to the fake API server as the group: an allowed one is answered by
   * the fake, any other refused as kube-apiserver refuses it. Returns the requests' attributes.
   */
  enforce(
    fake: FakeKubernetesApi,
    group: string,
  ): { allowed: RequestAttributes[]; denied: RequestAttributes[] } {
    const seen = { allowed: [] as RequestAttributes[], denied: [] as RequestAttributes[] };
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
      fake.intercept(method, /.*/, (request) => {
        const attributes = requestAttributes(request);
        if (attributes === undefined) return undefined;
        if (this.allows(group, attributes)) {
          seen.allowed.push(attributes);
          return undefined;
        }
        seen.denied.push(attributes);
        const scope = attributes.namespace
          ? ` in the namespace "${attributes.namespace}"`
          : ' at the cluster scope';
        return statusReply(
          403,
          `${attributes.resource} is forbidden: User "aor" cannot ${attributes.verb} resource "${attributes.resource}" in API group "${attributes.apiGroup}"${scope}`,
        );
      });
    }
    return seen;
  }
}
