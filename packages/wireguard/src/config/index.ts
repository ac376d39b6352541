// Configuration and routing: wg-quick INI, allowed-IPs trie, UAPI text protocol.
export {};
