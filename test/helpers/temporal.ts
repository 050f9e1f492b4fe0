import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { findTemporalBinary } from '../../client/temporal/temporal-binary';

/** A real Temporal dev server from the locally built CLI (nothing is downloaded), on a free port. */
export function startTemporal(): Promise<TestWorkflowEnvironment> {
  // Only warnings from in-process workers: test output stays readable.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  return TestWorkflowEnvironment.createLocal({
    server: { executable: { type: 'existing-path', path: findTemporalBinary() }, ip: '127.0.0.1', log: { format: 'pretty', level: 'error' } },
  });
}

/** The workflow code the workers run: setup's bundle, as `tempest` uses it (bundled once per process if stale). */
export { workflowBundle } from '../../worker/workflow-bundle';
