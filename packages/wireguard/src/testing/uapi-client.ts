// A minimal UAPI client for tests and benchmarks: one request over the unix socket, the whole
// answer (up to the blank line that ends it) back, as the stock `wg` tool reads it.
import { createConnection } from 'node:net';

/** Sends `text` (e.g. 'get=1\n\n') to the UAPI socket at `path` and resolves with the answer. */
export function uapiRequest(path: string, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      if (data.endsWith('\n\n')) {
        socket.end();
        resolve(data);
      }
    });
    socket.on('error', reject);
    socket.write(text);
  });
}
