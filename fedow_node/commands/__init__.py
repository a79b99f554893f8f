"""Sub-commands of ``fedow-node``; each module has ``add_parser(subparsers)``."""
