import type { MessagePort } from 'node:worker_threads';
import { StartupError, type NodeHandle, type NodeOptions } from '../lib/boot/options.ts';
import { startNode } from '../lib/boot/start-node.ts';
import { isSupervisorMessage, type NodeLogMessage, type NodeTask, type NodeTaskMessage, type NodeTaskResult } from '../lib/supervisor/node-task.ts';

/**
 * Runs one node in this worker thread until the supervisor sends `stop`. Aborting the task
 * (the supervisor's `crash`) terminates the thread instead: the node dies like `kill -9`.
 */
export default async function runNodeTask(task: NodeTask): Promise<NodeTaskResult> {
  try {
    const started = await startOrExplain(task);
    if (!('stop' in started)) return started;
    await serveUntilStop(started, task.port);
    return { outcome: 'stopped' };
  } finally {
    task.port.close();
  }
}

async function startOrExplain(task: NodeTask): Promise<NodeHandle | NodeTaskResult> {
  try {
    return await startNode(nodeOptions(task, (line) => task.port.postMessage({ type: 'log', line: line.replace(/\n$/, '') } satisfies NodeLogMessage)));
  } catch (error) {
    if (error instanceof StartupError) return { outcome: 'startup-failed', reason: error.message };
    throw error;
  }
}

async function serveUntilStop(handle: NodeHandle, port: MessagePort): Promise<void> {
  const stopRequested = waitForStop(port);
  const started: NodeTaskMessage = { type: 'started' };
  port.postMessage(started);
  await stopRequested;
  await handle.stop();
}

/** The node's options; its log lines go to `sink` (the supervisor prints them). */
function nodeOptions(task: NodeTask, sink: (line: string) => void): NodeOptions {
  return {
    addr: task.addr,
    peers: task.peers,
    dataDir: task.dataDir,
    failpoints: task.failpoints,
    ...(task.limits !== undefined && { limits: task.limits }),
    ...(task.secret !== undefined && { secret: task.secret }),
    ...(task.logLevel !== undefined && { logLevel: task.logLevel }),
    logPretty: task.logPretty ?? false,
    logSink: sink,
  };
}

function waitForStop(port: MessagePort): Promise<void> {
  return new Promise((resolve) => {
    port.on('message', (message: unknown) => {
      if (isSupervisorMessage(message)) resolve();
    });
  });
}
