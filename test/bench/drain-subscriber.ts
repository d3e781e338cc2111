import mqtt from 'mqtt';
import { connect } from 'node:net';
import { createPacketReader, decodePublish, encodeConnect, encodePubacks } from '../../services/broker/mqtt-wire.ts';

/**
 * The floor of the ingest bench (test/bench/ingest.bench.ts): a bare mqtt.js
 * QoS 1 subscriber, nothing else in its process, PUBACK on receipt (mqtt.js's
 * default). Own process, like the kansui worker it is compared with.
 * argv: prepare|drain|drain-lean url clientId filter [count]
 * - prepare: CONNECT with a persistent session (clean=false), SUBSCRIBE
 *   `filter` at QoS 1, DISCONNECT: the broker now queues for this client id.
 * - drain: CONNECT to that session and count PUBLISHes until `count`.
 * - drain-lean: the same with kansui's own MQTT code (services/broker/mqtt-wire.ts, what the ingest's
 *   subscriber is made of), PUBACKs on receipt, one write per socket read: the floor of the client kansui uses.
 * stdout (JSON lines): {"event":"prepared"} | {"event":"connack","at"} then {"event":"done","at","count"}
 * (`at`: Date.now(), the clock the bench and kansui's log share).
 */
const [mode, url, clientId, filter, countArg = '0'] = process.argv.slice(2) as [string, string, string, string, string?];
const count = Number(countArg);
const emit = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n');
if (mode === 'drain-lean') drainLean();
else drainMqttJs();

function drainMqttJs(): void {
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
    return;
  }
  let n = 0;
  client.once('connect', (connack) => emit({ event: 'connack', at: Date.now(), sessionPresent: connack.sessionPresent }));
  client.on('message', () => {
    if (++n !== count) return;
    emit({ event: 'done', at: Date.now(), count: n });
    // Let mqtt.js write the last PUBACK before hanging up.
    setImmediate(() => client.end(false, () => process.exit(0)));
  });
}

function drainLean(): void {
  const u = new URL(url);
  const socket = connect(Number(u.port), u.hostname).setNoDelay(true);
  socket.on('error', (err) => {
    process.stderr.write(`drain-subscriber ${clientId}: ${err.message}\n`);
    process.exit(1);
  });
  let n = 0;
  let ids: number[] = [];
  const read = createPacketReader((firstByte, body) => {
    const type = firstByte >> 4;
    if (type === 2) emit({ event: 'connack', at: Date.now(), sessionPresent: ((body[0] ?? 0) & 1) === 1 });
    else if (type === 3) {
      const p = decodePublish(firstByte, body);
      if (p && p.qos > 0) ids.push(p.id);
      n++;
    }
  });
  socket.on('data', (chunk: Buffer) => {
    read(chunk);
    if (ids.length) {
      socket.write(encodePubacks(ids));
      ids = [];
    }
    if (n >= count) {
      emit({ event: 'done', at: Date.now(), count: n });
      socket.end(Buffer.from([0xe0, 0x00]), () => process.exit(0));
      n = -Infinity;
    }
  });
  socket.once('connect', () => socket.write(encodeConnect({ clientId, clean: false, keepaliveS: 60 })));
}
