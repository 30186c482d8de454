"""The `policykb` console script (placeholder until the verbs land)."""
import sys


def main(argv: list[str] | None = None) -> int:
    print("policykb: verbs coming", file=sys.stderr)
    return 0
