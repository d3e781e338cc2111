import { Aedes } from 'aedes';
import { createServer, type AddressInfo, type Socket } from 'node:net';

/**
 * A bare aedes 1.2 broker for the raw publish→subscribe ceiling: default
 * in-memory persistence, no authentication hooks, nothing else in the
 * process. Prints {"port": N} on stdout once listening; exits on SIGTERM.
 */
const broker = await Aedes.createBroker();
const server = createServer(broker.handle as (s: Socket) => void);
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(JSON.stringify({ port: (server.address() as AddressInfo).port }) + '\n');
});
process.once('SIGTERM', () => {
  server.close();
  broker.close(() => process.exit(0));
});
