// Protocol core: keys, crypto, messages, handshake, transport, replay window, timers.
export {};
