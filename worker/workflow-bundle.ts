import fs from 'node:fs';
import path from 'node:path';
import { bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';

/**
 * The workflow code a worker runs. Bundling it (webpack) takes about a second at every start, so
 * setup bundles it once, after compiling (`node dist/worker/workflow-bundle.js`); a bundle older
 * than the compiled workflows (say, after a bare `tsc`) is passed over and the workflows are bundled
 * at start, so a worker never runs stale workflow code.
 */

const workflowsDir = path.join(__dirname, '..', 'workflows');
const prebuiltPath = path.join(__dirname, '..', 'workflow-bundle.js');

let bundling: Promise<WorkflowBundle> | undefined;

/** The bundle setup built when it is fresh; else the workflows bundled now, once per process. */
export async function workflowBundle(): Promise<WorkflowBundle> {
  if (isFresh()) return { codePath: prebuiltPath };
  bundling ??= bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  return bundling;
}

type WorkflowBundle = NonNullable<WorkerOptions['workflowBundle']>;

const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (message: string) => console.error(message) };

function isFresh(): boolean {
  try {
    const built = fs.statSync(prebuiltPath).mtimeMs;
    return fs.readdirSync(workflowsDir).every((name) => fs.statSync(path.join(workflowsDir, name)).mtimeMs <= built);
  } catch {
    return false;
  }
}

async function writePrebuiltBundle(): Promise<void> {
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('../workflows'), logger: quietLogger });
  // Written then renamed: a worker starting meanwhile sees the old bundle or the new one, never half of one.
  fs.writeFileSync(`${prebuiltPath}.tmp`, code);
  fs.renameSync(`${prebuiltPath}.tmp`, prebuiltPath);
}

if (require.main === module) {
  writePrebuiltBundle().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
