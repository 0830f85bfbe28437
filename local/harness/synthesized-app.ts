import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { App, type CfnResource, type Stack } from 'aws-cdk-lib';
import { type AorStacks, addAorStacks } from '../../lib/aor-app';
import { type AorConfig, parseAorConfig } from '../../lib/config';
import type { AorFunction } from '../../lib/constructs/aor-function';
import type { StateMachineDefinition } from '../workflow/asl';
import {
  type CloudFormationTemplate,
  type DeploymentEnvironment,
  extractStateMachineDefinition,
  resolveLambdaFunctions,
} from '../workflow/definition';

const PROJECT_ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A state machine as deployed: its resolved definition and the ARN of each of its functions. */
export interface SynthesizedWorkflow {
  readonly definition: StateMachineDefinition;
  readonly environment: DeploymentEnvironment;
  /** Function ARN in the definition, by the construct that owns it. */
  functionArn(fn: AorFunction): string;
}

export interface SynthesizedAor {
  readonly config: AorConfig;
  readonly stacks: AorStacks;
  readonly incidentResponse: SynthesizedWorkflow;
  readonly disasterRecovery: SynthesizedWorkflow;
}

let cached: SynthesizedAor | undefined;

/**
 * The AOR app synthesized exactly as `cdk synth` does it (cdk.json context, cdk-nag included) but
 * without bundling the Lambda code: the drills and workflow tests run the deployed definitions,
 * with each Task bound to the same handler code in this process. Synthesized once per process.
 */
export function synthesizedAor(): SynthesizedAor {
  if (cached) return cached;
  const context = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'cdk.json'), 'utf8')).context;
  const app = new App({ context: { ...context, 'aws:cdk:bundling-stacks': [] } });
  const config = parseAorConfig(context.aor);
  const stacks = addAorStacks(app, config);
  const assembly = app.synth();
  const workflow = (stack: Stack, stateMachine: CfnResource): SynthesizedWorkflow => {
    const template = assembly.getStackByName(stack.stackName).template as CloudFormationTemplate;
    const environment = { partition: 'aws-us-gov', region: stack.region, account: stack.account };
    const definition = extractStateMachineDefinition(template, {
      ...environment,
      logicalId: stack.getLogicalId(stateMachine),
    });
    const arns = new Map(
      [...resolveLambdaFunctions(template, environment).values()].map((f) => [f.logicalId, f.arn]),
    );
    return {
      definition,
      environment,
      functionArn(fn) {
        const logicalId = stack.getLogicalId(fn.function.node.defaultChild as CfnResource);
        const arn = arns.get(logicalId);
        if (!arn) throw new Error(`function ${fn.node.path} is not in stack ${stack.stackName}`);
        return arn;
      },
    };
  };
  cached = {
    config,
    stacks,
    incidentResponse: workflow(
      stacks.incidentResponse,
      stacks.incidentResponse.workflow.stateMachine.node.defaultChild as CfnResource,
    ),
    disasterRecovery: workflow(
      stacks.disasterRecovery,
      stacks.disasterRecovery.workflow.stateMachine.node.defaultChild as CfnResource,
    ),
  };
  return cached;
}
