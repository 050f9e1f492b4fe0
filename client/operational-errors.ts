import { NamespaceNotFoundError, WorkflowNotFoundError } from '@temporalio/client';
import { cannotHealReason } from '../activities/database/target-errors';
import { exitCodes } from './exit-codes';
import { UserError } from './user-error';

/** What a command was talking to, for messages that name it. */
export interface CommandContext {
  temporalAddress: string;
  namespace: string;
  taskQueue: string;
  target: { host: string; port: number };
  /** The flags that name the task again (operator-help.ts), for the commands the messages print. */
  selector: string;
}

/** gRPC status codes (grpc-js `status`), as Temporal's client errors carry them. */
const grpcStatus = { deadlineExceeded: 4, unavailable: 14 };
const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND', 'PROTOCOL_CONNECTION_LOST']);

/** No worker polls the queue of a running task: raised where that is seen, explained with the command's flags. */
export class NoWorkerError extends Error {
  constructor(readonly workflowId: string) {
    super(`no worker polls the task queue of task ${workflowId}`);
    this.name = 'NoWorkerError';
  }
}

/** Temporal did not answer at `address`: a message naming it and the setting that points there. */
export function temporalUnreachable(address: string, cause: unknown): UserError {
  return new UserError(
    `Temporal at ${address} does not answer (${causeText(cause)}): start it, or fix [temporal] address (--temporal-address), then run the same command again`,
    exitCodes.unavailable,
  );
}

/** No worker polls the task's queue, so nothing answers its queries and updates. */
function noWorker(context: CommandContext, workflowId: string): UserError {
  return new UserError(
    `no worker answers for task ${workflowId} (task queue "${context.taskQueue}" on ${context.temporalAddress}): start one with \`tempest worker ${context.selector}\`, then run the same command again`,
    exitCodes.unavailable,
  );
}

/** The target did not answer at its configured address. */
function targetUnreachable(target: { host: string; port: number }, code: string): UserError {
  return new UserError(`the target ${target.host}:${target.port} does not answer (${code}): check that it runs and [tidb] host and port (--tidb-host, --tidb-port), then run the same command again`, exitCodes.unavailable);
}

/**
 * An operational failure (a service down, no worker, no such task, a refusal of the target) as one
 * message and its exit code; undefined for anything else, which is a defect and keeps its stack.
 */
export function explainOperationalError(error: unknown, context: CommandContext): UserError | undefined {
  if (error instanceof UserError) return error;
  if (error instanceof WorkflowNotFoundError) {
    return new UserError(`no task ${error.workflowId || 'of this configuration'} on ${context.temporalAddress}: start it with \`tempest import ${context.selector}\``, exitCodes.usage);
  }
  if (error instanceof NamespaceNotFoundError) {
    return new UserError(`Temporal at ${context.temporalAddress} has no namespace "${context.namespace}": create it (temporal operator namespace create) or fix [temporal] namespace`, exitCodes.usage);
  }
  if (error instanceof NoWorkerError) return noWorker(context, error.workflowId);
  const chain = causes(error);
  const grpcCode = chain.map((cause) => (cause as { code?: unknown }).code).find((code): code is number => typeof code === 'number');
  if (grpcCode === grpcStatus.deadlineExceeded) return noWorker(context, workflowIdIn(chain) ?? 'of this configuration');
  // The worker's native connection fails as a TransportError; the client's as a deadline or UNAVAILABLE.
  const connectFailed = (cause: Error) => cause.name === 'TransportError' || /Failed to connect (before the deadline|to Temporal server)/.test(cause.message);
  if (grpcCode === grpcStatus.unavailable || chain.some(connectFailed)) {
    return temporalUnreachable(context.temporalAddress, chain[chain.length - 1]);
  }
  const driverCode = chain.map((cause) => (cause as NodeJS.ErrnoException).code).find((code) => typeof code === 'string');
  if (driverCode && unreachableCodes.has(driverCode)) return targetUnreachable(context.target, driverCode);
  const refusal = chain.map((cause) => cannotHealReason(cause)).find(Boolean);
  if (refusal) return new UserError(`${refusal.what} (${context.target.host}:${context.target.port}): ${chain[chain.length - 1].message}. ${refusal.remedy}`, exitCodes.usage);
  return undefined;
}

/** The error and its causes, outermost first. */
function causes(error: unknown): Error[] {
  const chain: Error[] = [];
  for (let current = error; current instanceof Error && chain.length < 10; current = current.cause) chain.push(current);
  return chain;
}

function workflowIdIn(chain: Error[]): string | undefined {
  for (const cause of chain) {
    const id = (cause as { workflowId?: unknown }).workflowId;
    if (typeof id === 'string' && id) return id;
  }
  return undefined;
}

function causeText(cause: unknown): string {
  const message = cause instanceof Error ? cause.message : String(cause);
  // The native connection's error is a Rust debug dump: its OS message is the part a person reads.
  const osMessage = /message: "([^"]+)"/.exec(message)?.[1];
  return osMessage ?? message.replace(/^\d+ [A-Z_]+: /, '').split('\n', 1)[0];
}
