import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { findTemporalBinary } from '../../client/temporal/temporal-binary';

/** A real Temporal dev server from the locally built CLI (nothing is downloaded), on a free port. */
export function startTemporal(): Promise<TestWorkflowEnvironment> {
  // Only warnings from in-process workers: test output stays readable.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: findTemporalBinary() }, ip: '127.0.0.1', log: { format: 'pretty', level: 'error' } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;

/** The workflows bundled once per test process. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: quietLogger });
  return bundle;
}

const quietLogger = { trace() {}, debug() {}, info() {}, warn() {}, error: (message: string) => console.error(message), log() {} };
