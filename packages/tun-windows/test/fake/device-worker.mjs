// A worker that opens a device over the fake WinTun and never closes it: lifecycle.test.ts
// terminates it to check the environment cleanup hook.
import { parentPort, workerData } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { openWindowsTun } = await tsImport('../../src/open.ts', import.meta.url);
await openWindowsTun({ name: workerData.name });
parentPort.postMessage('open');
setInterval(() => {}, 1000);
