// SPDX-License-Identifier: Apache-2.0
// A free TCP port on 127.0.0.1 (bound once, then released) for the example drivers: this bot's
// test/run.js and examples/cluster/run.js, which reuses this folder's node_modules too.
'use strict';

const net = require('node:net');

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

module.exports = { freePort };
