import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ERROR_CATALOGUE, type ErrorCode } from '@gtb/errors';
import type { Logger } from '@gtb/logger';

/** Node's parser errors, by the answer they get: headers past the 16 kB limit, a client too slow to send its request, anything else. */
function codeOf(err: NodeJS.ErrnoException): ErrorCode {
  if (err.code === 'HPE_HEADER_OVERFLOW') return 'ERR_HEADERS_TOO_LARGE';
  if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') return 'ERR_REQUEST_TIMEOUT';
  return 'ERR_BAD_REQUEST';
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' };

/**
 * Requests Node's HTTP parser refuses before Express sees them (headers over the size limit, a
 * malformed request line, a timeout) would get Node's bare answer with no body; every broker error
 * is a problem document with a stable code instead, so these get one too. The connection closes.
 */
export function answerClientErrors(server: Server, logger: Logger): void {
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    if (err.code === 'ECONNRESET' || !socket.writable) {
      socket.destroy();
      return;
    }
    const code = codeOf(err);
    const { status, title } = ERROR_CATALOGUE[code];
    logger.info({ code, status, parserError: err.code }, 'request refused by the HTTP parser');
    // A HEAD request gets no body. Its method is known only when the packet that failed holds the
    // request line; past the header limit it usually does not, and the client gets the document.
    const head = (err as { rawPacket?: Buffer }).rawPacket?.subarray(0, 5).toString('latin1') === 'HEAD ';
    const body = head ? '' : JSON.stringify({ type: `https://gtb.dev/errors/${code}`, title, status, code, detail: title });
    socket.end([
      `HTTP/1.1 ${status} ${REASONS[status] ?? 'Bad Request'}`,
      'Content-Type: application/problem+json; charset=utf-8',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Cache-Control: no-store',
      'Connection: close',
      '',
      body,
    ].join('\r\n'));
  });
}
