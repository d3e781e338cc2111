import { createServer, type AddressInfo } from 'node:net';

/**
 * A free loopback TCP port, for servers that cannot bind port 0 and report
 * back (mosquitto, influxd). The OS may in theory hand it out again before
 * the server binds; callers retry on EADDRINUSE.
 */
export async function getFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}
