import mqtt from 'mqtt';

/**
 * The floor of the ingest bench (test/bench/ingest.bench.ts): a bare mqtt.js
 * QoS 1 subscriber, nothing else in its process, PUBACK on receipt (mqtt.js's
 * default). Own process, like the kansui worker it is compared with.
 * argv: prepare|drain url clientId filter [count]
 * - prepare: CONNECT with a persistent session (clean=false), SUBSCRIBE
 *   `filter` at QoS 1, DISCONNECT: the broker now queues for this client id.
 * - drain: CONNECT to that session and count PUBLISHes until `count`.
 * stdout (JSON lines): {"event":"prepared"} | {"event":"connack","at"} then {"event":"done","at","count"}
 * (`at`: Date.now(), the clock the bench and kansui's log share).
 */
const [mode, url, clientId, filter, countArg = '0'] = process.argv.slice(2) as [string, string, string, string, string?];
const count = Number(countArg);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
const client = mqtt.connect(url, { clientId, clean: false, protocolVersion: 4, reconnectPeriod: 0, keepalive: 60 });
client.on('error', (err) => {
  process.stderr.write(`drain-subscriber ${clientId}: ${err.message}\n`);
  process.exit(1);
});

if (mode === 'prepare') {
  client.once('connect', () => {
    client.subscribe(filter, { qos: 1 }, (err) => {
      if (err) throw err;
      client.end(false, () => {
        emit({ event: 'prepared' });
        process.exit(0);
      });
    });
  });
} else {
  let n = 0;
  client.once('connect', (connack) => emit({ event: 'connack', at: Date.now(), sessionPresent: connack.sessionPresent }));
  client.on('message', () => {
    if (++n !== count) return;
    emit({ event: 'done', at: Date.now(), count: n });
    // Let mqtt.js write the last PUBACK before hanging up.
    setImmediate(() => client.end(false, () => process.exit(0)));
  });
}
