// Sequential complete 2FA flows through the official Unipile Node SDK (unipile-node-sdk
// 1.9.3, default options), in a loop in this one Node process, against a simulator that a
// client's `benches/client_vs_node.rs` started (auth-ureq's and auth-reqwest's both run
// this script): connectMessenger (202 Checkpoint), then solveCodeCheckpoint (201
// AccountCreated), the demo account bob.
//
// Environment: SIM_ORIGIN (http://127.0.0.1:PORT), SIM_API_KEY, SDK_DIR (the directory
// whose node_modules holds the SDK: crates/auth-sim/node), WARMUP and FLOWS (counts).
// Prints one JSON line: {"flows":N,"wall_ns":…,"cpu_ns":…}, CPU time being this process's
// user + system time (process.cpuUsage(), all its threads) over the measured flows.

import { createRequire } from 'node:module';
import path from 'node:path';

const required = (name) => {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is not set`);
  return value;
};

const require = createRequire(path.join(required('SDK_DIR'), 'package.json'));
const { UnipileClient } = require('unipile-node-sdk');

const client = new UnipileClient(required('SIM_ORIGIN'), required('SIM_API_KEY'));
const warmup = Number(required('WARMUP'));
const flows = Number(required('FLOWS'));

async function flow() {
  const checkpoint = await client.account.connectMessenger({ username: 'bob', password: 'pw-b' });
  if (checkpoint.object !== 'Checkpoint' || checkpoint.checkpoint?.type !== '2FA') {
    throw new Error(`the connect answered ${checkpoint.object}, not a 2FA checkpoint`);
  }
  const done = await client.account.solveCodeCheckpoint({
    provider: 'MESSENGER',
    account_id: checkpoint.account_id,
    code: '123456',
  });
  if (done.object !== 'AccountCreated') throw new Error(`the solve answered ${done.object}`);
}

for (let i = 0; i < warmup; i += 1) await flow();
const cpu = process.cpuUsage();
const started = process.hrtime.bigint();
for (let i = 0; i < flows; i += 1) await flow();
const wall = process.hrtime.bigint() - started;
const used = process.cpuUsage(cpu);
console.log(JSON.stringify({
  flows,
  wall_ns: Number(wall),
  cpu_ns: (used.user + used.system) * 1000,
}));
