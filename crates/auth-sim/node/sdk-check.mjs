// Runs the official Unipile Node SDK (unipile-node-sdk 1.9.3, with response validation
// set to 'error') against postpress-sim: a client nobody on this team wrote is the proof
// that the simulator speaks the real API's shapes.
//
// Usage:
//   SIM_ORIGIN=http://127.0.0.1:PORT SIM_API_KEY=KEY node sdk-check.mjs
//   node sdk-check.mjs            # starts postpress-sim itself (SIM_BIN, or `cargo run`)
// Optional: SIM_SHORT_TTL_ORIGIN, a second simulator (same key, demo accounts) whose
// intents live SIM_SHORT_TTL_MS milliseconds, for the 408-then-400 check;
// SIM_QUICKSTART_ORIGIN, a third one answering errors in the quickstart's envelope.
//
// The simulator must serve the demo accounts (alice, bob, carol, dave).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { UnipileClient, UnipileError } from 'unipile-node-sdk';

const OPTIONS = { validateRequestPayload: true, validateRequestPayloadLevel: 'error' };

let passed = 0;
let failed = 0;

async function check(name, body) {
  try {
    await body();
    passed += 1;
    console.log(`ok - ${name}`);
  } catch (error) {
    failed += 1;
    console.log(`not ok - ${name}`);
    console.log(`  ${String(error?.stack ?? error).split('\n').join('\n  ')}`);
    if (error?.body !== undefined) console.log(`  error.body: ${JSON.stringify(error.body)}`);
  }
}

/** Awaits a promise that must reject with an SDK error carrying the HTTP error body. */
async function expectError(promise, status, type) {
  let error;
  try {
    const value = await promise;
    assert.fail(`expected ${status} ${type}, got ${JSON.stringify(value)}`);
  } catch (e) {
    error = e;
  }
  if (error instanceof assert.AssertionError) throw error;
  assert.ok(error instanceof UnipileError, `not an UnipileError: ${error}`);
  assert.equal(error.body?.status, status, `error.body = ${JSON.stringify(error.body)}`);
  assert.equal(error.body?.type, type, `error.body = ${JSON.stringify(error.body)}`);
  assert.equal(typeof error.body?.title, 'string');
  // The request id for support, in `instance` ("Request identifier for support").
  assert.match(String(error.body?.instance), /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  return error;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function startSimulator(apiKey) {
  const [command, args] = process.env.SIM_BIN
    ? [process.env.SIM_BIN, ['--api-key', apiKey]]
    : ['cargo', ['run', '-q', '-p', 'auth-sim', '--bin', 'postpress-sim', '--', '--api-key', apiKey]];
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolve, reject) => {
    lines.once('line', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`postpress-sim exited with ${code}`)));
  });
  const match = /^listening on (http:\/\/127\.0\.0\.1:\d+)$/.exec(first);
  if (!match) throw new Error(`unexpected first line: ${first}`);
  return { origin: match[1], stop: () => child.kill('SIGTERM') };
}

async function main() {
  const apiKey = process.env.SIM_API_KEY ?? 'sdk-check-key';
  let origin = process.env.SIM_ORIGIN;
  let stop = () => {};
  if (!origin) ({ origin, stop } = await startSimulator(apiKey));

  // The SDK takes the origin ("DSN") and adds /api/v1 itself: the Unipile path style.
  const client = new UnipileClient(origin, apiKey, OPTIONS);

  await check('connectMessenger then solveCodeCheckpoint (2FA)', async () => {
    const checkpoint = await client.account.connectMessenger({ username: 'bob', password: 'pw-b' });
    assert.equal(checkpoint.object, 'Checkpoint');
    assert.equal(checkpoint.checkpoint.type, '2FA');
    assert.equal(typeof checkpoint.account_id, 'string');
    const connected = await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER',
      account_id: checkpoint.account_id,
      code: '123456',
    });
    assert.deepEqual(connected, { object: 'AccountCreated', account_id: checkpoint.account_id });
  });

  await check('connectMessenger without checkpoint answers AccountCreated', async () => {
    const connected = await client.account.connectMessenger({ username: 'alice', password: 'pw-a' });
    assert.equal(connected.object, 'AccountCreated');
  });

  await check('chained checkpoints: 2FA then OTP', async () => {
    const first = await client.account.connectMessenger({ username: 'dave', password: 'pw-d' });
    const otp = await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER', account_id: first.account_id, code: '111111',
    });
    assert.equal(otp.object, 'Checkpoint');
    assert.equal(otp.checkpoint.type, 'OTP');
    const done = await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER', account_id: first.account_id, code: '222222',
    });
    assert.equal(done.object, 'AccountCreated');
  });

  await check('in_app_validation is held, then AccountCreated', async () => {
    const first = await client.account.connectMessenger({ username: 'carol', password: 'pw-c' });
    const started = Date.now();
    const done = await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER', account_id: first.account_id, code: 'in_app_validation',
    });
    assert.equal(done.object, 'AccountCreated');
    assert.ok(Date.now() - started >= 1400, `answered after ${Date.now() - started} ms`);
  });

  await check('reconnectMessenger answers AccountReconnected after the checkpoint', async () => {
    const first = await client.account.connectMessenger({ username: 'bob', password: 'pw-b' });
    await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER', account_id: first.account_id, code: '123456',
    });
    const again = await client.account.reconnectMessenger({
      account_id: first.account_id, username: 'bob', password: 'pw-b',
    });
    assert.equal(again.object, 'Checkpoint');
    const done = await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER', account_id: first.account_id, code: '123456',
    });
    assert.deepEqual(done, { object: 'AccountReconnected', account_id: first.account_id });
  });

  await check('wrong password: error.body has status 401 and type errors/invalid_credentials', async () => {
    await expectError(
      client.account.connectMessenger({ username: 'bob', password: 'nope' }),
      401, 'errors/invalid_credentials',
    );
  });

  await check('wrong code: 401 errors/invalid_checkpoint_solution, the intent is kept', async () => {
    const first = await client.account.connectMessenger({ username: 'bob', password: 'pw-b' });
    await expectError(
      client.account.solveCodeCheckpoint({ provider: 'MESSENGER', account_id: first.account_id, code: '000000' }),
      401, 'errors/invalid_checkpoint_solution',
    );
    const done = await client.account.solveCodeCheckpoint({
      provider: 'MESSENGER', account_id: first.account_id, code: '123456',
    });
    assert.equal(done.object, 'AccountCreated');
  });

  await check('unknown API key: 401 errors/invalid_credentials', async () => {
    const stranger = new UnipileClient(origin, 'not-the-key', OPTIONS);
    await expectError(
      stranger.account.connectMessenger({ username: 'alice', password: 'pw-a' }),
      401, 'errors/invalid_credentials',
    );
  });

  await check('account.getOne: the connected account, CONNECTING for a moment, then OK', async () => {
    const connected = await client.account.connectMessenger({ username: 'alice', password: 'pw-a' });
    assert.equal(connected.object, 'AccountCreated');
    // The SDK validates the answer against its own MESSENGER Account schema.
    const first = await client.account.getOne(connected.account_id);
    assert.equal(first.object, 'Account');
    assert.equal(first.type, 'MESSENGER');
    assert.equal(first.id, connected.account_id);
    assert.equal(first.name, 'alice');
    assert.ok(['CONNECTING', 'OK'].includes(first.sources[0].status), JSON.stringify(first));
    // The simulator reports CONNECTING for 200 ms (its default); well after, OK.
    await sleep(400);
    const later = await client.account.getOne(connected.account_id);
    assert.equal(later.sources[0].status, 'OK');
    assert.equal(later.created_at, first.created_at);
  });

  await check('account.getOne with ?port= in the query (extra_params), as postpress accepts', async () => {
    const connected = await client.account.connectMessenger({ username: 'alice', password: 'pw-a' });
    const account = await client.account.getOne(connected.account_id, { extra_params: { port: '13443' } });
    assert.equal(account.id, connected.account_id);
  });

  await check('account.getOne of an unknown account: 404 errors/resource_not_found', async () => {
    await expectError(client.account.getOne('0000000000000000000000'), 404, 'errors/resource_not_found');
  });

  await check('unknown intent (never issued): 400 errors/invalid_parameters', async () => {
    await expectError(
      client.account.solveCodeCheckpoint({ provider: 'MESSENGER', account_id: 'no-such-intent', code: '1' }),
      400, 'errors/invalid_parameters',
    );
  });

  const shortOrigin = process.env.SIM_SHORT_TTL_ORIGIN;
  if (shortOrigin) {
    const ttl = Number(process.env.SIM_SHORT_TTL_MS ?? '500');
    await check('expired intent: 408 errors/request_timeout, then 400 errors/authentication_intent_error', async () => {
      const short = new UnipileClient(shortOrigin, apiKey, OPTIONS);
      const first = await short.account.connectMessenger({ username: 'bob', password: 'pw-b' });
      await new Promise((resolve) => setTimeout(resolve, ttl + 150));
      const solve = () => short.account.solveCodeCheckpoint({
        provider: 'MESSENGER', account_id: first.account_id, code: '123456',
      });
      await expectError(solve(), 408, 'errors/request_timeout');
      // The intent destroyed itself: typed apart from a malformed request's 400.
      const destroyed = await expectError(solve(), 400, 'errors/authentication_intent_error');
      assert.equal(destroyed.body?.title, 'Authentication intent destroyed');
    });
  } else {
    console.log('# skipped the expiry check: SIM_SHORT_TTL_ORIGIN is not set');
  }

  const quickstartOrigin = process.env.SIM_QUICKSTART_ORIGIN;
  if (quickstartOrigin) {
    await check('quickstart envelope: error.body is {"error":{"code","message","request_id"}}', async () => {
      const quick = new UnipileClient(quickstartOrigin, apiKey, OPTIONS);
      let error;
      try {
        await quick.account.connectMessenger({ username: 'bob', password: 'nope' });
      } catch (e) {
        error = e;
      }
      assert.ok(error instanceof UnipileError, `not an UnipileError: ${error}`);
      assert.equal(error.body?.error?.code, 'invalid_credentials', JSON.stringify(error.body));
      assert.equal(typeof error.body?.error?.message, 'string');
      assert.match(String(error.body?.error?.request_id), /^[0-9a-f-]{36}$/);
      // The same simulator still answers successes as the SDK expects.
      const connected = await quick.account.connectMessenger({ username: 'alice', password: 'pw-a' });
      assert.equal(connected.object, 'AccountCreated');
    });
  } else {
    console.log('# skipped the quickstart envelope check: SIM_QUICKSTART_ORIGIN is not set');
  }

  stop();
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
