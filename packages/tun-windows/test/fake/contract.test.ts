// tun-core's contract suite over WindowsTun with the fake WinTun (Linux, no privileges).
import { tunContractSuite } from '@tunkit/tun-core/testing';
import { fakeHarness } from './fake-harness.js';

tunContractSuite('WindowsTun over the fake WinTun', () => fakeHarness());
tunContractSuite('WindowsTun over the fake WinTun, smallest ring and channel', () =>
  fakeHarness({ ringCapacity: 128 * 1024, inboundSlots: 16, pendingSlots: 16 }),
);
