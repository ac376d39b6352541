// GUID text ("{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}", braces optional) to the 16 bytes of a
// Windows GUID struct: Data1 (32-bit), Data2 and Data3 (16-bit) little-endian, then Data4 as written.

import { TunConfigError } from '@tunkit/tun-core';

const GUID = /^\{?([0-9a-f]{8})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{4})-([0-9a-f]{12})\}?$/i;

export function parseGuid(text: string): Uint8Array {
  const match = GUID.exec(text);
  if (match === null || text.startsWith('{') !== text.endsWith('}')) {
    throw new TunConfigError(
      'ERR_TUN_GUID',
      `guid must look like '{6BA7B810-9DAD-11D1-80B4-00C04FD430C8}' (braces optional), got '${text}'`,
    );
  }
  const [, data1, data2, data3, data4a, data4b] = match as unknown as [string, string, string, string, string, string];
  const bytes = new Uint8Array(16);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, Number.parseInt(data1, 16), true);
  view.setUint16(4, Number.parseInt(data2, 16), true);
  view.setUint16(6, Number.parseInt(data3, 16), true);
  const rest = data4a + data4b;
  for (let i = 0; i < 8; i++) bytes[8 + i] = Number.parseInt(rest.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The canonical text of 16 GUID bytes, in braces and upper case. */
export function formatGuid(bytes: Uint8Array): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, 16);
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  const tail = [...bytes.subarray(8, 16)].map((b) => hex(b, 2)).join('');
  return `{${hex(view.getUint32(0, true), 8)}-${hex(view.getUint16(4, true), 4)}-${hex(view.getUint16(6, true), 4)}-${tail.slice(0, 4)}-${tail.slice(4)}}`;
}
