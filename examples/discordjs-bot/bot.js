// SPDX-License-Identifier: Apache-2.0
// A plain discord.js v14 bot pointed at a herald node instead of discord.com.
// Nothing herald-specific beyond the `rest.api` option: it logs in (GET /gateway/bot, then
// the gateway: Hello, Identify, READY, GUILD_CREATE), waits for messages and answers
// "!ping <text>" with "pong: <text>" in the same channel (POST /channels/{id}/messages).
// On "!pinme" it reacts with 👍 and pins the message (herald's reactions and pins features),
// then fetches the channel's pins.
//
//   HERALD_API=http://127.0.0.1:8080/api HERALD_BOT_TOKEN=... node bot.js
//   node bot.js <token> [api]
//
// It prints one JSON line per milestone on stdout ({"event":"ready",…}, {"event":"message",…},
// {"event":"replied",…}, {"event":"pinned",…}) so a test can follow it; errors go to stderr.
'use strict';

const { Client, Events, GatewayIntentBits } = require('discord.js');

const token = process.env.HERALD_BOT_TOKEN || process.argv[2];
const api = process.env.HERALD_API || process.argv[3] || 'http://127.0.0.1:8080/api';
if (!token) {
  console.error('usage: HERALD_BOT_TOKEN=<token> [HERALD_API=<url>] node bot.js');
  process.exit(2);
}

function log(event, fields) {
  console.log(JSON.stringify({ event, ...fields }));
}

const client = new Client({
  intents: [GatewayIntentBits.Guilds, GatewayIntentBits.GuildMessages,
    GatewayIntentBits.MessageContent],
  rest: { api, version: '10' },
});

client.once(Events.ClientReady, (ready) => {
  log('ready', {
    user: ready.user.id,
    username: ready.user.username,
    guilds: ready.guilds.cache.map((g) => ({
      id: g.id,
      name: g.name,
      channels: g.channels.cache.map((c) => c.name),
    })),
  });
});

client.on(Events.MessageCreate, async (message) => {
  log('message', {
    id: message.id,
    channel: message.channelId,
    author: message.author.id,
    content: message.content,
  });
  if (!message.author.bot && message.content.startsWith('!pinme')) {
    try {
      await message.react('👍');
      await message.pin();
      const pins = await message.channel.messages.fetchPins();
      log('pinned', { id: message.id, pins: pins.items.map((p) => p.message.id) });
    } catch (err) {
      console.error(`pin failed: ${err && err.stack ? err.stack : err}`);
    }
    return;
  }
  if (message.author.bot || !message.content.startsWith('!ping')) {
    return;
  }
  const text = message.content.slice('!ping'.length).trim();
  try {
    const sent = await message.channel.send(`pong: ${text}`);
    log('replied', { id: sent.id, channel: sent.channelId, content: sent.content });
  } catch (err) {
    console.error(`reply failed: ${err && err.stack ? err.stack : err}`);
  }
});

client.on(Events.Error, (err) => console.error(`client error: ${err}`));

process.on('SIGTERM', () => {
  client.destroy().finally(() => process.exit(0));
});

client.login(token).catch((err) => {
  console.error(`login failed: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
});
