// SPDX-License-Identifier: Apache-2.0
// examples/cluster: three herald nodes on loopback, one command (README.md).
//
// It makes a throwaway cluster CA and one certificate per node with the openssl CLI (the
// commands of docs/cluster.md, "Mutual TLS"), starts a throwaway PostgreSQL
// (herald-local-postgres), writes three node configs (static seeds, mutual TLS, the same store
// and secret_file) and starts three heraldd, na, nb and nc. Once `heraldctl cluster status`
// says nodes_up=3 on every node it creates the users and a guild whose owner on the ring is na
// (`heraldctl where guild`), connects one discord.js client to nb and one to nc, posts
// messages through REST on nb (which routes them to na), and checks that both clients received
// every MESSAGE_CREATE with the same content, in the order they were posted. It prints what
// each client saw; every process it started is stopped on every exit path.
//
//   HERALD_BIN_DIR=<build>/bin node examples/cluster/run.js
//
// Needs heraldd, heraldctl and herald-local-postgres in HERALD_BIN_DIR, openssl on PATH, and
// discord.js installed in examples/discordjs-bot (`npm ci` there). HERALD_KEEP_TMP=1 keeps the
// temp dir (configs, certificates, node logs). Exit 0 only when every check passed.
'use strict';

const { spawn, spawnSync, execFile } = require('node:child_process');
const { createRequire } = require('node:module');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// discord.js as examples/discordjs-bot pins it (its package-lock.json).
const botRequire = createRequire(path.join(__dirname, '..', 'discordjs-bot', 'package.json'));
const { Client, Events, GatewayIntentBits } = botRequire('discord.js');
const { freePort } = require('../discordjs-bot/test/free_port');

const NODES = [
  { name: 'na', id: 1 },
  { name: 'nb', id: 2 },
  { name: 'nc', id: 3 },
];
const MESSAGES = 5;                  // posted through nb, in this order
const OVERALL_TIMEOUT_MS = 180000;   // the whole run
const WAIT_MS = 60000;               // each wait for a condition
const STOP_MS = 20000;               // each heraldd's clean stop after SIGTERM

const children = [];  // every process started, killed on any exit path
const clients = [];   // discord.js clients, destroyed on any exit path
let tmp;
let postgres;         // the herald-local-postgres process
let finished = false;

function log(line) {
  console.log(`[cluster] ${line}`);
}

// Last resort on every exit path (normal, fail, signal, exception): nothing outlives us.
// heraldd gets SIGKILL; herald-local-postgres SIGTERM, which it turns into stopping the server
// and removing its files (it also does so when its stdin, our pipe, closes as we exit).
function killAll() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill(c.isPostgres ? 'SIGTERM' : 'SIGKILL');
    }
  }
  if (tmp && !process.env.HERALD_KEEP_TMP) {
    fs.rmSync(tmp, { recursive: true, force: true });
    tmp = undefined;
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    console.error(`[cluster] ${sig}: stopping`);
    process.exit(1);
  });
}

function fail(message) {
  console.error(`[cluster] FAILED: ${message}`);
  for (const c of clients) {
    c.destroy();
  }
  process.exit(1);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/// Polls `check` (async, returns a value or a falsy one) until it gives a value; throws with
/// `what` after WAIT_MS.
async function waitUntil(what, check, stepMs = 200) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const v = await check().catch(() => undefined);
    if (v) {
      return v;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`);
    }
    await sleep(stepMs);
  }
}

function bin(name) {
  const dir = process.env.HERALD_BIN_DIR;
  if (!dir) {
    fail('HERALD_BIN_DIR is not set (the build\'s bin directory, e.g. build/bin)');
  }
  const p = path.join(dir, name);
  if (!fs.existsSync(p)) {
    fail(`${p} does not exist (build heraldd, heraldctl and herald-local-postgres first)`);
  }
  return p;
}

// ---- certificates: docs/cluster.md, "Mutual TLS" --------------------------------------------

function openssl(dir, args) {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`openssl ${args.slice(0, 2).join(' ')} failed: ${r.stderr || r.error}`);
  }
}

function makeClusterCa(dir) {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(dir, ['req', '-x509', ...ec, '-keyout', 'cluster-ca.key', '-out', 'cluster-ca.pem',
    '-days', '2', '-subj', '/CN=herald example cluster CA']);
  fs.writeFileSync(path.join(dir, 'node.ext'), 'basicConstraints=critical,CA:FALSE\n'
    + 'keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth,clientAuth\n');
  for (const n of NODES) {
    openssl(dir, ['req', ...ec, '-keyout', `${n.name}.key`, '-out', `${n.name}.csr`,
      '-subj', `/CN=${n.name}`]);
    openssl(dir, ['x509', '-req', '-in', `${n.name}.csr`, '-CA', 'cluster-ca.pem',
      '-CAkey', 'cluster-ca.key', '-CAcreateserial', '-out', `${n.name}.pem`, '-days', '2',
      '-extfile', 'node.ext']);
    openssl(dir, ['verify', '-CAfile', 'cluster-ca.pem', '-purpose', 'sslclient',
      `${n.name}.pem`]);
    fs.chmodSync(path.join(dir, `${n.name}.key`), 0o600);
  }
}

// ---- PostgreSQL ------------------------------------------------------------------------------

/// Starts herald-local-postgres and resolves with the URL of its fresh database.
function startPostgres() {
  return new Promise((resolve, reject) => {
    const pg = spawn(bin('herald-local-postgres'), [], { stdio: ['pipe', 'pipe', 'pipe'] });
    pg.isPostgres = true;
    children.push(pg);
    postgres = pg;
    let out = '';
    let err = '';
    pg.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^url=(\S+)$/m);
      if (m) {
        resolve(m[1]);
      }
    });
    pg.stderr.on('data', (d) => { err += d; });
    pg.on('exit', (code) => {
      if (!finished) {
        reject(new Error(`herald-local-postgres exited (${code}): ${err}`));
      }
    });
  });
}

// ---- nodes ----------------------------------------------------------------------------------

function nodeConfig(n, seeds, pgUrl, secretFile) {
  return [
    '[node]',
    `name = "${n.name}"`,
    `data_dir = "${n.data}"`,
    'roles = ["gateway", "guild"]',
    '[admin]',
    `listen = "127.0.0.1:${n.admin}"`,
    '[gateway]',
    `listen = "127.0.0.1:${n.gateway}"`,
    `public_url = "ws://127.0.0.1:${n.gateway}"`,
    '[cluster]',
    `node_id = ${n.id}`,
    `listen = "127.0.0.1:${n.cluster}"`,
    `seeds = [${seeds.map((s) => `"${s}"`).join(', ')}]`,
    `tls_ca_file = "${path.join(tmp, 'cluster-ca.pem')}"`,
    `tls_cert_file = "${path.join(tmp, `${n.name}.pem`)}"`,
    `tls_key_file = "${path.join(tmp, `${n.name}.key`)}"`,
    '[store]',
    'backend = "postgres"',
    `postgres_url = "${pgUrl}"`,
    '[identity]',
    `secret_file = "${secretFile}"`,
    '',
  ].join('\n');
}

function startNode(n) {
  const logFile = fs.openSync(path.join(tmp, `${n.name}.log`), 'w');
  const p = spawn(bin('heraldd'), ['--config', n.config], { stdio: ['ignore', logFile, logFile] });
  fs.closeSync(logFile);
  children.push(p);
  n.proc = p;
  p.on('exit', (code, sig) => {
    if (!finished) {
      fail(`heraldd ${n.name} exited (${code ?? sig}); its log:\n${nodeLog(n)}`);
    }
  });
}

/// The last `lines` lines of node n's log.
function nodeLog(n, lines = 40) {
  try {
    return fs.readFileSync(path.join(tmp, `${n.name}.log`), 'utf8').split('\n').slice(-lines)
      .join('\n');
  } catch (e) {
    return '(no log)';
  }
}

/// heraldctl against node `n` (its admin token is in its data dir); parsed --json output.
function ctl(n, args) {
  return new Promise((resolve, reject) => {
    execFile(bin('heraldctl'),
      ['--node', `127.0.0.1:${n.admin}`, '--data-dir', n.data, '--json', ...args],
      { timeout: 20000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`heraldctl ${args.join(' ')} on ${n.name}: ${stderr || err.message}`));
          return;
        }
        try {
          resolve(JSON.parse(stdout));
        } catch (e) {
          reject(new Error(`heraldctl ${args.join(' ')} on ${n.name}: not JSON: ${stdout}`));
        }
      });
  });
}

/// SIGTERM to `proc`, then its exit code once it exited (rejects after STOP_MS).
function stopProcess(what, proc) {
  return new Promise((resolve, reject) => {
    if (proc.exitCode !== null || proc.signalCode !== null) {
      resolve(proc.exitCode);
      return;
    }
    const timer = setTimeout(() => reject(new Error(`${what} did not stop in ${STOP_MS} ms`)),
      STOP_MS);
    proc.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    proc.kill('SIGTERM');
  });
}

// ---- discord.js -----------------------------------------------------------------------------

/// A discord.js client logged in on node `n` (its REST API; GET /gateway/bot names n's
/// gateway), recording the MESSAGE_CREATE contents of `channel` in arrival order.
async function connectClient(label, n, token, guild, channel) {
  const client = new Client({
    intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages,
      GatewayIntentBits.MessageContent],
    rest: { api: `http://127.0.0.1:${n.gateway}/api`, version: '10' },
  });
  clients.push(client);
  const seen = [];
  client.on(Events.MessageCreate, (m) => {
    if (m.channelId === channel) {
      seen.push({ id: m.id, content: m.content });
    }
  });
  client.on(Events.Error, (e) => console.error(`[cluster] ${label}: client error: ${e}`));
  const ready = new Promise((resolve) => client.once(Events.ClientReady, resolve));
  await client.login(token);
  await ready;
  // GUILD_CREATE comes from the owner (na) through nb's or nc's relay.
  await waitUntil(`${label}'s GUILD_CREATE`, async () => client.guilds.cache.has(guild));
  log(`${label} (discord.js) ready on ${n.name} as ${client.user.username}; `
    + `guild ${guild} has #${client.guilds.cache.get(guild).channels.cache.get(channel).name}`);
  return { label, node: n, client, seen };
}

async function post(n, token, channel, content) {
  const res = await fetch(`http://127.0.0.1:${n.gateway}/api/v10/channels/${channel}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bot ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content }),
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`POST message on ${n.name} → ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

// ---- the run --------------------------------------------------------------------------------

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-cluster-example-'));
  log(`temp dir ${tmp}`);
  makeClusterCa(tmp);
  log('cluster CA and certificates for na, nb, nc made (openssl)');
  const pgUrl = await startPostgres();
  log(`PostgreSQL: ${pgUrl}`);
  const secretFile = path.join(tmp, 'token.secret');
  fs.writeFileSync(secretFile, `example-${require('node:crypto').randomBytes(24).toString('hex')}\n`,
    { mode: 0o600 });

  for (const n of NODES) {
    n.admin = await freePort();
    n.gateway = await freePort();
    n.cluster = await freePort();
    n.data = path.join(tmp, `data-${n.name}`);
  }
  const seeds = NODES.map((n) => `127.0.0.1:${n.cluster}`);
  for (const n of NODES) {
    n.config = path.join(tmp, `${n.name}.toml`);
    fs.writeFileSync(n.config, nodeConfig(n, seeds, pgUrl, secretFile));
    startNode(n);
  }
  for (const n of NODES) {
    const status = await waitUntil(`${n.name}: cluster status nodes_up=3`, async () => {
      const s = await ctl(n, ['cluster', 'status']);
      return s.nodes_up === 3 && s.verdict === 'ok' ? s : undefined;
    });
    log(`${n.name} (gateway 127.0.0.1:${n.gateway}): nodes_up=${status.nodes_up} `
      + `verdict=${status.verdict} ring_generation=${status.ring_generation}`);
  }
  const [na, nb, nc] = NODES;

  const alice = await ctl(na, ['user', 'create', '--name', 'alice']);
  const botB = await ctl(na, ['user', 'create', '--name', 'client-on-nb', '--bot']);
  const botC = await ctl(na, ['user', 'create', '--name', 'client-on-nc', '--bot']);
  // Guild ids are new snowflakes: create guilds until the ring puts one on na.
  let guild;
  for (let i = 0; i < 40 && !guild; ++i) {
    const g = await ctl(na, ['guild', 'create', '--name', `example-${i}`, '--owner', alice.id]);
    const where = await ctl(na, ['where', 'guild', g.id]);
    if (where.owner_node === 'na') {
      guild = g.id;
      log(`guild ${guild} (example-${i}): owner_node=${where.owner_node} `
        + `alive=${where.alive} ring_generation=${where.ring_generation}`);
    }
  }
  if (!guild) {
    throw new Error('no guild of 40 was owned by na: is na up with the guild role?');
  }
  const channel = (await ctl(na, ['channel', 'create', '--guild', guild, '--name', 'general'])).id;
  for (const u of [botB, botC]) {
    await ctl(na, ['member', 'add', '--guild', guild, '--user', u.id]);
  }
  // Every node sees the same owner.
  for (const n of [nb, nc]) {
    const where = await ctl(n, ['where', 'guild', guild]);
    if (where.owner_node !== 'na') {
      throw new Error(`${n.name} names ${where.owner_node} as the guild's owner, not na`);
    }
  }

  const onB = await connectClient('client-on-nb', nb, botB.token, guild, channel);
  const onC = await connectClient('client-on-nc', nc, botC.token, guild, channel);

  // Posted one after another through nb's REST API: nb routes each to na, which orders it and
  // streams it back to nb's and nc's relays.
  const posted = [];
  for (let i = 1; i <= MESSAGES; ++i) {
    const m = await post(nb, alice.token, channel, `message ${i} of ${MESSAGES}, posted on nb`);
    posted.push({ id: m.id, content: m.content });
  }
  log(`posted ${MESSAGES} messages through REST on nb (ids ${posted[0].id} … `
    + `${posted[posted.length - 1].id})`);
  for (const c of [onB, onC]) {
    await waitUntil(`${c.label}: ${MESSAGES} MESSAGE_CREATE`, async () => c.seen.length >= MESSAGES);
  }
  await sleep(300);  // anything extra (a duplicate) would arrive now

  for (const c of [onB, onC]) {
    log(`${c.label} on ${c.node.name} saw:`);
    for (const m of c.seen) {
      log(`  MESSAGE_CREATE ${m.id} "${m.content}"`);
    }
  }
  const expected = JSON.stringify(posted);
  for (const c of [onB, onC]) {
    if (JSON.stringify(c.seen) !== expected) {
      throw new Error(`${c.label} saw ${JSON.stringify(c.seen)}, expected ${expected} `
        + '(every message once, in the order posted)');
    }
  }
  const status = await ctl(na, ['cluster', 'status']);
  log(`na: routed_publishes local=${status.routed_publishes.local} `
    + `remote=${status.routed_publishes.remote}`);

  for (const c of clients) {
    c.destroy();
  }
  finished = true;
  for (const n of NODES) {
    const code = await stopProcess(n.name, n.proc);
    if (code !== 0) {
      throw new Error(`${n.name} exited ${code} after SIGTERM; its log:\n${nodeLog(n)}`);
    }
  }
  await stopProcess('herald-local-postgres', postgres);
  log(`OK: both clients received the ${MESSAGES} messages, identical and in order`);
}

const timer = setTimeout(() => fail(`no result within ${OVERALL_TIMEOUT_MS} ms`),
  OVERALL_TIMEOUT_MS);
main().then(() => {
  clearTimeout(timer);
  process.exit(0);
}, (e) => {
  const logs = NODES.filter((n) => n.proc).map((n) => `--- ${n.name} (last lines):\n${nodeLog(n)}`)
    .join('\n');
  fail(`${e.stack || e.message}\n${logs}`);
});
