"""The ledger domain, pure and deterministic: keys, canonical encoding, objects,
transactions and the rules that apply them to state. No I/O, no clock."""
