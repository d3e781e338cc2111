import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mosquittoDynsecSink } from '../../services/broker/mosquitto-dynsec.ts';
import { mosquittoFilesSink } from '../../services/broker/mosquitto-files.ts';
import { startDynsecMosquitto, startMosquitto } from '../helpers/mosquitto.ts';
import { describeMosquittoProvisioningContract } from './mosquitto-provisioning.contract.ts';

const INGEST = { username: 'kansui-ingest', password: 'ingest-secret-for-the-contract' };

// Password file + ACL, reloaded with SIGHUP through Mosquitto's pid file.
describeMosquittoProvisioningContract('password file + SIGHUP', async () => {
  const mosquitto = await startMosquitto({ ingestUser: INGEST });
  const pidFile = join(mosquitto.dir, 'mosquitto.pid');
  writeFileSync(pidFile, String(mosquitto.process.pid));
  const sink = mosquittoFilesSink({ passwordFile: mosquitto.passwordFile, aclFile: mosquitto.aclFile, ingestUsername: INGEST.username, pidFile });
  return { url: mosquitto.url, sink, ingest: INGEST, stop: () => mosquitto.stop() };
});

// The dynamic-security plugin: no files, no signal; the adapter also creates the ingest's login.
describeMosquittoProvisioningContract('dynamic security', async () => {
  const mosquitto = await startDynsecMosquitto();
  const sink = mosquittoDynsecSink({ url: mosquitto.url, ...mosquitto.admin, ingest: INGEST });
  await sink.prepareIngest();
  await sink.prepareIngest(); // as on every restart: nothing to add, nothing fails
  return {
    url: mosquitto.url,
    sink,
    ingest: INGEST,
    async stop() {
      await sink.close();
      await mosquitto.stop();
    },
  };
});
