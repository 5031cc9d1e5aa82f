/**
 * A forward proxy of the kind self-hosted runners sit behind: it only tunnels (HTTP CONNECT), checks
 * Proxy-Authorization when given credentials, and can refuse tunnels on demand.
 */
import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface ProxyOptions {
  /** "user:password" the proxy demands (407 without it). */
  credentials?: string;
}

export interface TunnelRecord {
  /** host:port asked for. */
  target: string;
  /** Decoded Proxy-Authorization (Basic), if sent. */
  authorization: string | undefined;
  /** The status the proxy answered. */
  status: number;
}

export interface TestProxy {
  /** http://[user:password@]127.0.0.1:port */
  url: string;
  readonly tunnels: TunnelRecord[];
  /** Answer the next CONNECTs with these statuses instead of tunnelling. */
  refuseNext(...statuses: number[]): void;
  close(): Promise<void>;
}

export async function startProxy(options: ProxyOptions = {}): Promise<TestProxy> {
  const tunnels: TunnelRecord[] = [];
  const refusals: number[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((_req, res) => {
    res.writeHead(405).end();
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('connect', (req, client: Socket, head: Buffer) => {
    const header = req.headers['proxy-authorization'];
    const authorization =
      header?.startsWith('Basic ') === true
        ? Buffer.from(header.slice(6), 'base64').toString('utf8')
        : undefined;
    const target = req.url ?? '';
    let status = refusals.shift() ?? 200;
    if (status === 200 && options.credentials !== undefined && authorization !== options.credentials)
      status = 407;
    tunnels.push({ target, authorization, status });
    if (status !== 200) {
      const extra = status === 407 ? 'Proxy-Authenticate: Basic realm="test"\r\n' : '';
      client.end(`HTTP/1.1 ${status} Refused\r\n${extra}Content-Length: 0\r\n\r\n`);
      return;
    }
    const colon = target.lastIndexOf(':');
    const upstream = connect(Number(target.slice(colon + 1)), target.slice(0, colon), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const userinfo = options.credentials === undefined ? '' : `${options.credentials}@`;
  return {
    url: `http://${userinfo}127.0.0.1:${address.port}`,
    tunnels,
    refuseNext: (...statuses) => refusals.push(...statuses),
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
