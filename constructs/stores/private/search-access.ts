// AgentSearch's fine-grained-access-control role mappings: which FGAC roles a set of grants becomes, and which stack maps a grantee.
import * as crypto from 'crypto';
import { Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { FGAC_READ, FGAC_WRITE } from '../search-perms';
import { principalArn } from './search-validation';

/** One grant of read or write on some indexes to a principal. */
export interface GrantRecord {
  readonly kind: 'read' | 'write';
  readonly principal: iam.IPrincipal;
  readonly indexes: string[];
}

/**
 * One FGAC role per (kind, index set), named from a hash of the indexes so names are stable across deployments.
 * Roles mapped from another stack (`owner`) hash that stack's name in too: each access resource owns its roles, so one
 * resource's update or delete never rewrites or removes a mapping another resource made.
 */
export function fgacRoles(domainName: string, grants: readonly GrantRecord[], owner?: Stack): unknown[] {
  const roles = new Map<string, { kind: 'read' | 'write'; indexes: string[]; principals: string[] }>();
  for (const g of grants) {
    const indexes = [...new Set(g.indexes)].sort();
    const hash = crypto.createHash('sha256').update(indexes.join(',') + (owner ? `@${ownerName(owner)}` : '')).digest('hex').slice(0, 10);
    const name = `agent_${domainName}_${g.kind}_${hash}`;
    const role = roles.get(name) ?? { kind: g.kind, indexes, principals: [] };
    role.principals.push(principalArn(g.principal));
    roles.set(name, role);
  }
  return [...roles.entries()].map(([name, r]) => {
    const perms = r.kind === 'read' ? FGAC_READ : FGAC_WRITE;
    return {
      Name: name,
      ClusterPermissions: perms.clusterPermissions,
      // The alias and the generations behind it: the security plugin checks the concrete index a request resolves to.
      IndexPatterns: r.indexes.flatMap(i => [i, `${i}-v*`]),
      AllowedActions: perms.allowedActions,
      BackendRoles: r.principals,
    };
  });
}

/** The stack's name (unique in the account and Region), or its construct path when the name is a token (a nested stack). */
function ownerName(stack: Stack): string {
  return Token.isUnresolved(stack.stackName) ? stack.node.path : stack.stackName;
}

/** The stack of a role or other construct principal; a principal that is no construct (an ArnPrincipal) is the domain's. */
export function grantStack(principal: iam.IPrincipal, domainStack: Stack): Stack {
  return isConstructPrincipal(principal) ? Stack.of(principal) : domainStack;
}

function isConstructPrincipal(x: unknown): x is IConstruct {
  return typeof x === 'object' && x !== null && 'node' in x;
}
