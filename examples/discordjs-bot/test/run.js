// SPDX-License-Identifier: Apache-2.0
// Integration test of examples/discordjs-bot (run by CTest after `npm ci`): starts a fresh
// heraldd, seeds it with heraldctl (a guild with #general and a private #staff; users alice,
// bob and a bot), runs bot.js, posts as alice through REST and checks over raw gateway
// connections that alice receives the bot's reply as MESSAGE_CREATE and that bob, who cannot
// view #staff, receives #general traffic but never anything of #staff. With the reactions and
// pins features enabled, the bot reacts 👍 to and pins alice's "!pinme" (message.react,
// message.pin, messages.fetchPins); bob's connection receives MESSAGE_REACTION_ADD and
// CHANNEL_PINS_UPDATE; bob, without PIN_MESSAGES, gets discord.js's DiscordAPIError 50013 when
// he pins and nothing is dispatched.
// Needs HERALD_BIN_DIR (heraldd, heraldctl). Exits non-zero with a reason on any failure.
//
// `node test/run.js --tls`: the same over TLS. It makes a throwaway CA and a certificate for
// 127.0.0.1 with the openssl CLI, starts heraldd with gateway.tls_cert_file/tls_key_file, and
// reruns itself with NODE_EXTRA_CA_CERTS naming the CA (Node reads it at start only), so that
// its own fetch and ws clients and the discord.js bot (rest.api https://…, gateway wss://…)
// trust it. No certificate check is switched off anywhere.
'use strict';

const { spawn, spawnSync, execFile } = require('node:child_process');
const { REST, Routes } = require('discord.js');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { freePort } = require('./free_port');
const { GatewayClient } = require('./gateway_client');

const VIEW_CHANNEL = 1 << 10;
const SEND_MESSAGES = 1 << 11;
const READ_HISTORY = 1 << 16;
const PIN_MESSAGES = 2 ** 51;  // beyond JS's 32-bit bitwise operators: add, don't OR
// GUILDS, GUILD_MESSAGES, GUILD_MESSAGE_REACTIONS, MESSAGE_CONTENT
const INTENTS = (1 << 0) | (1 << 9) | (1 << 10) | (1 << 15);
const OVERALL_TIMEOUT_MS = 150000;

const children = [];
let tmp;

function fail(message) {
  console.error(`discordjs-bot test: FAILED: ${message}`);
  cleanup();
  process.exit(1);
}

function cleanup() {
  for (const c of children) {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGKILL');
    }
  }
  if (tmp && !process.env.HERALD_KEEP_TMP) {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function binary(name) {
  const dir = process.env.HERALD_BIN_DIR;
  if (!dir) {
    fail('HERALD_BIN_DIR is not set (run through CTest)');
  }
  const p = path.join(dir, name);
  if (!fs.existsSync(p)) {
    fail(`${p} does not exist (build heraldd and heraldctl first)`);
  }
  return p;
}

/// Runs heraldctl with --json and returns the parsed output. The node's data dir holds the
/// admin token heraldd generated (heraldctl --data-dir reads <dir>/admin.token).
function ctl(adminAddr, args) {
  return new Promise((resolve, reject) => {
    execFile(binary('heraldctl'),
      ['--node', adminAddr, '--data-dir', path.join(tmp, 'data'), '--json', ...args],
      { timeout: 20000 },
      (err, stdout, stderr) => {
        if (err) {
          reject(new Error(`heraldctl ${args.join(' ')} failed: ${stderr || err.message}`));
          return;
        }
        try {
          resolve(stdout.trim() ? JSON.parse(stdout) : {});
        } catch (e) {
          reject(new Error(`heraldctl ${args.join(' ')}: not JSON: ${stdout}`));
        }
      });
  });
}

/// The id field of a heraldctl answer ({"id":…} or {"user":{"id":…}} and the like).
function idOf(obj, what) {
  const id = obj.id ?? obj.user?.id ?? obj.guild?.id ?? obj.channel?.id ?? obj.role?.id;
  if (id === undefined || id === null) {
    throw new Error(`no id in heraldctl output for ${what}: ${JSON.stringify(obj)}`);
  }
  return String(id);
}

function tokenOf(obj, what) {
  const token = obj.token ?? obj.user?.token;
  if (!token) {
    throw new Error(`no token in heraldctl output for ${what}: ${JSON.stringify(obj)}`);
  }
  return token;
}

async function rest(api, method, route, token, body) {
  const res = await fetch(`${api}/v10${route}`, {
    method,
    headers: { Authorization: `Bot ${token}`, 'Content-Type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) {
    throw new Error(`${method} ${route} → ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

const TLS = process.argv.includes('--tls');

/// Writes a CA and a server certificate for 127.0.0.1/localhost into `dir` (openssl CLI).
function makeCertificates(dir) {
  const openssl = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) {
      throw new Error(`openssl ${args[0]} failed: ${r.stderr || r.error}`);
    }
  };
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2',
    '-subj', '/CN=herald discordjs test CA']);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=herald']);
  fs.writeFileSync(path.join(dir, 'server.ext'),
    'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key',
    '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext']);
}

async function main() {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-discordjs-'));
  const gatewayPort = await freePort();
  const adminPort = await freePort();
  const adminAddr = `127.0.0.1:${adminPort}`;
  const certDir = process.env.HERALD_TEST_CERT_DIR;
  const base = `${TLS ? 'https' : 'http'}://127.0.0.1:${gatewayPort}`;
  const api = `${base}/api`;
  const config = path.join(tmp, 'heraldd.toml');
  fs.writeFileSync(config, [
    '[node]',
    'name = "discordjs-test"',
    `data_dir = "${path.join(tmp, 'data')}"`,
    '[admin]',
    `listen = "${adminAddr}"`,
    '[gateway]',
    `listen = "127.0.0.1:${gatewayPort}"`,
    `public_url = "${TLS ? 'wss' : 'ws'}://127.0.0.1:${gatewayPort}"`,
    ...(TLS ? [`tls_cert_file = "${path.join(certDir, 'server.pem')}"`,
      `tls_key_file = "${path.join(certDir, 'server.key')}"`] : []),
    '[identity]',
    'secret = "discordjs-integration-test-secret-0123456789"',
    '[features]',
    'enabled = ["reactions", "pins"]',
    '',
  ].join('\n'));

  const node = spawn(binary('heraldd'), ['--config', config],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(node);
  let nodeLog = '';
  node.stdout.on('data', (d) => { nodeLog += d; });
  node.stderr.on('data', (d) => { nodeLog += d; });
  node.on('exit', (code, sig) => {
    if (!finished) {
      fail(`heraldd exited early (${code ?? sig}):\n${nodeLog}`);
    }
  });

  // The REST API is up once GET /gateway answers with JSON.
  let up = false;
  for (let i = 0; i < 150 && !up; ++i) {
    try {
      const res = await fetch(`${api}/v10/gateway`);
      up = res.ok && (res.headers.get('content-type') || '').startsWith('application/json');
    } catch (e) {
      await sleep(100);
    }
  }
  if (!up) {
    throw new Error(`heraldd's REST API did not come up on ${api}:\n${nodeLog}`);
  }

  // Seed: users, guild, channels, members, overwrites — all through the admin API.
  const botUser = await ctl(adminAddr, ['user', 'create', '--name', 'herald-bot', '--bot']);
  const aliceUser = await ctl(adminAddr, ['user', 'create', '--name', 'alice']);
  const bobUser = await ctl(adminAddr, ['user', 'create', '--name', 'bob']);
  const bot = { id: idOf(botUser, 'bot'), token: tokenOf(botUser, 'bot') };
  const alice = { id: idOf(aliceUser, 'alice'), token: tokenOf(aliceUser, 'alice') };
  const bob = { id: idOf(bobUser, 'bob'), token: tokenOf(bobUser, 'bob') };
  const guild = idOf(await ctl(adminAddr, ['guild', 'create', '--name', 'herald-demo',
    '--owner', alice.id]), 'guild');
  const general = idOf(await ctl(adminAddr, ['channel', 'create', '--guild', guild,
    '--name', 'general']), 'general');
  const staff = idOf(await ctl(adminAddr, ['channel', 'create', '--guild', guild,
    '--name', 'staff', '--private']), 'staff');
  await ctl(adminAddr, ['member', 'add', '--guild', guild, '--user', bot.id]);
  await ctl(adminAddr, ['member', 'add', '--guild', guild, '--user', bob.id]);
  const allow = String(VIEW_CHANNEL | SEND_MESSAGES | READ_HISTORY);
  await ctl(adminAddr, ['overwrite', 'set', '--channel', staff, '--member', bot.id,
    '--allow', allow, '--deny', '0']);
  // The bot may pin in #general; bob and alice may not (PIN_MESSAGES is no default).
  await ctl(adminAddr, ['overwrite', 'set', '--channel', general, '--member', bot.id,
    '--allow', String(PIN_MESSAGES), '--deny', '0']);

  // Bob cannot post into #staff (403) — the permission rules are live before anything else.
  const denied = await fetch(`${api}/v10/channels/${staff}/messages`, {
    method: 'POST',
    headers: { Authorization: `Bot ${bob.token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ content: 'let me in' }),
  });
  if (denied.status !== 403) {
    throw new Error(`bob posting to #staff got ${denied.status}, expected 403`);
  }

  const gateway = (await rest(api, 'GET', '/gateway/bot', bot.token)).url;
  if (TLS && !gateway.startsWith('wss://')) {
    throw new Error(`GET /gateway/bot over TLS announced ${gateway}, expected wss://`);
  }
  const aliceWs = new GatewayClient('alice', gateway, alice.token, INTENTS);
  const bobWs = new GatewayClient('bob', gateway, bob.token, INTENTS);
  await Promise.all([aliceWs.connect(), bobWs.connect()]);
  await aliceWs.waitFor('READY', (f) => f.t === 'READY');
  const bobGuild = await bobWs.waitFor('GUILD_CREATE', (f) => f.t === 'GUILD_CREATE');
  await aliceWs.waitFor('GUILD_CREATE', (f) => f.t === 'GUILD_CREATE');
  if (bobGuild.d.channels.some((c) => c.id === staff)) {
    throw new Error("bob's GUILD_CREATE lists #staff");
  }

  // The discord.js bot logs in and reaches ready with its guild.
  const botProc = spawn(process.execPath, [path.join(__dirname, '..', 'bot.js')], {
    env: { ...process.env, HERALD_BOT_TOKEN: bot.token, HERALD_API: api },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(botProc);
  const botEvents = [];
  let botErr = '';
  let pending = '';
  const botWaiters = [];
  const checkBot = () => {
    for (const w of [...botWaiters]) {
      const e = botEvents.find(w.pred);
      if (e) {
        botWaiters.splice(botWaiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(e);
      }
    }
  };
  botProc.stdout.on('data', (d) => {
    pending += d;
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      try {
        botEvents.push(JSON.parse(line));
      } catch (e) {
        botErr += `${line}\n`;
      }
    }
    checkBot();
  });
  botProc.stderr.on('data', (d) => { botErr += d; });
  botProc.on('exit', (code) => {
    if (!finished) {
      fail(`bot.js exited (${code}):\n${botErr}\nheraldd:\n${nodeLog}`);
    }
  });
  const waitBot = (what, pred, ms = 30000) => new Promise((resolve, reject) => {
    const w = { pred, resolve };
    w.timer = setTimeout(() => reject(new Error(`bot: timed out waiting for ${what}; events ` +
      `${JSON.stringify(botEvents)}; stderr:\n${botErr}`)), ms);
    botWaiters.push(w);
    checkBot();
  });
  const ready = await waitBot('ready', (e) => e.event === 'ready');
  if (ready.user !== bot.id || !ready.guilds.some((g) => g.id === guild)) {
    throw new Error(`bot ready without its guild: ${JSON.stringify(ready)}`);
  }

  // alice posts in #staff through REST with her own token; the bot answers there.
  const posted = await rest(api, 'POST', `/channels/${staff}/messages`, alice.token,
    { content: '!ping secret plans' });
  await waitBot('alice\'s message', (e) => e.event === 'message' && e.id === posted.id);
  const reply = await aliceWs.waitFor('the bot reply in #staff', (f) => f.t === 'MESSAGE_CREATE'
    && f.d.channel_id === staff && f.d.author.id === bot.id);
  if (reply.d.content !== 'pong: secret plans') {
    throw new Error(`unexpected reply content: ${JSON.stringify(reply.d)}`);
  }
  const replied = await waitBot('replied', (e) => e.event === 'replied' && e.channel === staff);
  if (replied.id !== reply.d.id) {
    throw new Error(`REST reply id ${replied.id} differs from the dispatched ${reply.d.id}`);
  }

  // The same in #general: bob sees this one (his connection is live, so silence about
  // #staff means something).
  const hi = await rest(api, 'POST', `/channels/${general}/messages`, alice.token,
    { content: '!ping hi' });
  await bobWs.waitFor('the bot reply in #general', (f) => f.t === 'MESSAGE_CREATE'
    && f.d.channel_id === general && f.d.author.id === bot.id);
  // The bot reacts to and pins alice's message: bob sees both dispatches.
  const pinme = await rest(api, 'POST', `/channels/${general}/messages`, alice.token,
    { content: '!pinme please' });
  const pinned = await waitBot('pinned', (e) => e.event === 'pinned' && e.id === pinme.id);
  if (!pinned.pins.includes(pinme.id)) {
    throw new Error(`fetchPins after pin lacks the message: ${JSON.stringify(pinned)}`);
  }
  const reaction = await bobWs.waitFor('MESSAGE_REACTION_ADD', (f) =>
    f.t === 'MESSAGE_REACTION_ADD' && f.d.message_id === pinme.id);
  if (reaction.d.user_id !== bot.id || reaction.d.emoji.name !== '👍') {
    throw new Error(`unexpected reaction dispatch: ${JSON.stringify(reaction.d)}`);
  }
  await bobWs.waitFor('CHANNEL_PINS_UPDATE', (f) => f.t === 'CHANNEL_PINS_UPDATE'
    && f.d.channel_id === general && f.d.guild_id === guild && f.d.last_pin_timestamp);
  // bob may not pin: discord.js raises Discord's error, nothing is dispatched.
  const bobRest = new REST({ api, version: '10' }).setToken(bob.token);
  try {
    await bobRest.put(Routes.channelMessagesPin(general, hi.id));
    throw new Error('bob pinned without PIN_MESSAGES');
  } catch (err) {
    if (err.code !== 50013 || err.status !== 403) {
      throw new Error(`bob's pin: expected DiscordAPIError 50013 (403), got ${err.status} ` +
        `${err.code}: ${err.message}`);
    }
  }
  const marker = await rest(api, 'POST', `/channels/${general}/messages`, alice.token,
    { content: 'marker' });
  await bobWs.waitFor('the marker', (f) => f.t === 'MESSAGE_CREATE' && f.d.id === marker.id);
  const pinUpdates = bobWs.dispatches.filter((f) => f.t === 'CHANNEL_PINS_UPDATE');
  if (pinUpdates.length !== 1) {
    throw new Error(`bob got ${pinUpdates.length} CHANNEL_PINS_UPDATE, expected the bot's one`);
  }

  await sleep(500);  // let anything misrouted arrive
  const leaked = bobWs.dispatches.filter((f) => f.d && (f.d.channel_id === staff
    || (f.d.id === staff)));
  if (leaked.length > 0) {
    throw new Error(`bob received #staff traffic: ${JSON.stringify(leaked)}`);
  }
  // Sequences are gapless per session.
  for (const c of [aliceWs, bobWs]) {
    c.dispatches.forEach((f, i) => {
      if (f.s !== i + 1) {
        throw new Error(`${c.name}: dispatch ${i} has s=${f.s}`);
      }
    });
  }
  aliceWs.close();
  bobWs.close();
  console.log(`discordjs-bot test${TLS ? ' (TLS)' : ''}: OK (bot ${bot.id} replied in #staff ${staff}; bob saw ` +
    `${bobWs.dispatches.length} dispatches, none of #staff)`);
}

// --tls without the CA in the environment: make it, then rerun this script with it.
if (TLS && !process.env.HERALD_TEST_CERT_DIR) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herald-discordjs-ca-'));
  let status = 1;
  try {
    makeCertificates(dir);
    const r = spawnSync(process.execPath, process.argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.pem'),
        HERALD_TEST_CERT_DIR: dir },
      timeout: OVERALL_TIMEOUT_MS + 10000,
    });
    status = r.status ?? 1;
  } catch (e) {
    console.error(`discordjs-bot test: FAILED: ${e.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  process.exit(status);
}

let finished = false;
const timer = setTimeout(() => fail(`no result within ${OVERALL_TIMEOUT_MS} ms`),
  OVERALL_TIMEOUT_MS);
main().then(() => {
  finished = true;
  clearTimeout(timer);
  for (const c of children) {
    c.kill('SIGTERM');
  }
  setTimeout(() => { cleanup(); process.exit(0); }, 500);
}, (err) => {
  finished = true;
  fail(err && err.stack ? err.stack : String(err));
});
