import { createOutboundGuard } from '../../services/alerting/outbound.ts';
import type { Recipient } from '../../services/core/alerts/channel.ts';
import { parseAllowList, type AllowRule } from '../../services/core/outbound-policy.ts';
import { createLineApi } from '../../services/line/line-api.ts';
import { createLineMulticastChannel } from '../../services/line/line-multicast-channel.ts';
import type { Fault, Received } from '../helpers/alert-receivers.ts';
import { lineUserId, startLineApiServer } from '../helpers/line-api-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { describeAlertChannelContract } from './alert-channel.contract.ts';

/** Residents' LINE multicast (issue 14) under the one AlertChannel contract, against the LINE-shaped loopback server. */
describeAlertChannelContract('LINE Messaging API multicast (residents)', async () => {
  const server = await startLineApiServer('multicast-token');
  const loopbackAllowed = createOutboundGuard({ rules: (parseAllowList('127.0.0.0/8') as { rules: AllowRule[] }).rules });
  const publicOnly = createOutboundGuard({ rules: [] });
  const received = (): Received[] =>
    server.multicasts.map((c) => ({ at: c.at, headers: {}, json: c.json, text: c.json.messages.map((m: { text: string }) => m.text).join('\n') }));
  const receiver = {
    get received() {
      return received();
    },
    fault(f: Fault) {
      server.failMulticasts(Array.from({ length: f.times }, () => ({ ...(f.status !== undefined && { status: f.status }), ...(f.hang && { hang: true }) })));
    },
    waitForCount: (n: number, timeoutMs = 10_000) => waitFor(() => (server.multicasts.length >= n ? received() : undefined), { timeoutMs, what: `${n} multicasts` }),
  };
  const to = [1, 2, 3].map(lineUserId).join(',');
  return {
    channel: createLineMulticastChannel({ api: createLineApi({ token: 'multicast-token', baseUrl: server.baseUrl, outbound: loopbackAllowed }) }),
    refusedChannel: () => createLineMulticastChannel({ api: createLineApi({ token: 'multicast-token', baseUrl: server.baseUrl, outbound: publicOnly }) }),
    recipient: (lang = 'ja'): Recipient => ({ id: `residents-${lang}`, channel: 'line', target: to, lang, sensors: ['*'], minSeverity: 'caution', kinds: ['flood'], source: 'resident' }),
    receiver,
    permanentFault: { times: 1, status: 400 },
    transientFault: { times: 1, status: 429 },
    close: () => server.close(),
  };
});
