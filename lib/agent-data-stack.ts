// AgentDataStack: the whole agent data stack from one declaration. Composition only: resource details live in constructs/.
import { Fn, Stack, StackProps, Token } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { AgentDataPlatformProps, IAgentDataResources } from './agent-data-props';
import { composeAgentData } from './compose';

export type { AgentDataPlatformProps, AgentTransformDeclaration, IAgentDataResources } from './agent-data-props';
export type { AgentAdditionalSourceDeclaration, AgentSourceDeclaration, AgentSourceResources } from './sources';
export { ViewSource } from './views';
export type { AgentViewDeclaration } from './views';

// The members of both classes are IAgentDataResources', declared once there and merged in (the interfaces below); each
// constructor assigns every one of them from composeAgentData.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface AgentDataPlatform extends IAgentDataResources {}

/**
 * The real-time agent data stack as a construct, for an existing stack: bring-your-own resources imported into
 * the same stack can have their security groups opened without cross-stack cycles.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AgentDataPlatform extends Construct implements IAgentDataResources {
  constructor(scope: Construct, id: string, props: AgentDataPlatformProps) {
    super(scope, id);
    Object.assign(this, composeAgentData(this, props));
  }
}

export interface AgentDataStackProps extends AgentDataPlatformProps, StackProps {}

// eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unsafe-declaration-merging
export interface AgentDataStack extends IAgentDataResources {}

/**
 * The real-time agent data stack: CDC-ready source, Debezium on MSK Connect, MSK, Flink SQL transforms, cache and
 * search stores fed by idempotent sinks, an MCP server, dashboards, alarms, lineage and a decision audit: all
 * derived from one declaration of source tables, transforms and views.
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class AgentDataStack extends Stack implements IAgentDataResources {
  constructor(scope: Construct, id: string, props: AgentDataStackProps) {
    super(scope, id, props);
    Object.assign(this, composeAgentData(this, props));
  }

  /**
   * An environment-agnostic stack sees two placeholder AZs by default; the production profile spreads over three,
   * so without a region the stack offers the region's first three AZs (every region with MSK has at least three).
   */
  public get availabilityZones(): string[] {
    if (Token.isUnresolved(this.region)) return [0, 1, 2].map(i => Fn.select(i, Fn.getAzs()));
    return super.availabilityZones;
  }
}
