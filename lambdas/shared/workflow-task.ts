import * as z from 'zod';
import type { Actor } from '../core/incident/incident-service';

/**
 * Where a Lambda task runs inside its workflow, passed by every Task state: the execution from the
 * context object (`$$.Execution.Id`) and the state's own name. It names the actor of every ledger
 * record and scopes its idempotency keys.
 */
export const workflowTaskSchema = z.strictObject({
  execution: z.string().min(1).max(2048),
  state: z.string().min(1).max(80),
});
export type WorkflowTask = z.infer<typeof workflowTaskSchema>;

/** The workflow as an actor: the state machine (from the execution ARN), the execution, the state. */
export function workflowActor(task: WorkflowTask): Actor {
  // arn:<partition>:states:<region>:<account>:execution:<state machine>:<execution name>
  const stateMachine = task.execution.split(':').at(-2) ?? task.execution;
  return { type: 'workflow', id: stateMachine, execution: task.execution, state: task.state };
}

/**
 * A ledger idempotency key for one attempt of a state: Step Functions invokes the function anew
 * for every Retry attempt, so the invocation's request id tells attempts apart, while a repeat of
 * the same invocation (a lost response) keeps its key and is recorded once.
 */
export function taskKey(task: WorkflowTask, requestId: string, ...parts: string[]): string {
  return stepKey(task, ...parts, requestId);
}

/**
 * A ledger idempotency key for what a state does once per execution, however often Step Functions
 * retries it (an action that succeeded, a channel that was paged): a retry finds it and does not
 * do it again.
 */
export function stepKey(task: WorkflowTask, ...parts: string[]): string {
  const execution = task.execution.split(':').at(-1) ?? task.execution;
  return [execution, task.state.replaceAll(' ', '_'), ...parts].join('/');
}
