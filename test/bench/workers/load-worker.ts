/**
 * Load generator process (autocannon for closed loops, fetch for storms). Messages from the runner:
 * - `closed-loop {options}` → `result {result}`
 * - `storm-prepare {options}` → `storm-ready {warmed}`, then `fire` → `result {result}`
 */
import { runClosedLoop, type ClosedLoopOptions } from '../lib/closed-loop.js';
import { prepareStorm, type PreparedStorm, type StormOptions } from '../lib/storm.js';
import { onRunnerMessage, toRunner } from './ipc.js';

let storm: PreparedStorm | undefined;

onRunnerMessage(async (message) => {
  if (message.type === 'closed-loop') {
    const result = await runClosedLoop(message['options'] as ClosedLoopOptions);
    toRunner({ type: 'result', result });
  } else if (message.type === 'storm-prepare') {
    storm = await prepareStorm(message['options'] as StormOptions);
    toRunner({ type: 'storm-ready', warmed: storm.warmed });
  } else if (message.type === 'fire') {
    if (!storm) throw new Error('fire before storm-prepare');
    const result = await storm.fire();
    toRunner({ type: 'result', result });
  }
});
toRunner({ type: 'started' });
