"""The package's public surface: everything the integrator and p2p need is exported and importable."""

from __future__ import annotations

import consensus
import consensus.simulation


def test_every_exported_name_exists() -> None:
    for package in (consensus, consensus.simulation):
        assert package.__all__ == sorted(package.__all__)
        for name in package.__all__:
            assert getattr(package, name) is not None, name


def test_the_integrator_finds_what_it_wires() -> None:
    needed = {"Application", "Transport", "Clock", "Node", "NodeConfig", "Driver", "Signer", "FileLastSignStore",
              "FileWal", "Mempool", "EvidencePool", "ConsensusParams", "decode_message", "encode_message",
              "verify_certificate", "verify_evidence", "block_time_ms", "ValidatorSet", "UnsafeStart", "TxRejected"}
    assert needed <= set(consensus.__all__)


def test_consensus_params_come_from_the_chain_params() -> None:
    from config import ChainParams

    params = consensus.ConsensusParams.from_chain_params(ChainParams.devnet())
    assert params.timeout_propose_ms == ChainParams.devnet().timeout_propose_ms
    assert params.timeout_ms(consensus.Step.PROPOSE, 10**6) == params.timeout_cap_ms
